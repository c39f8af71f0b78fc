/* Placeholder: replaced by the boot path. */
