/* bench: placeholder until the benchmark programs land. */
#include "ulib.h"

int cmd_bench(int argc, char **argv)
{
	printf("bench: not yet\n");
	return 0;
}
