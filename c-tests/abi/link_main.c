/*
 * link_main.c
 *		main() for the link check's executable (see link_refs.c).  It prints
 *		"linked <n>" where n is link_refs_exercise's result: 0 when the
 *		variable could be written and read back.
 */
#include <stdio.h>

extern int	link_refs_exercise(int call_functions);

int
main(int argc, char **argv)
{
	(void) argv;
	/* argc is never 1000 here: the library's functions are bound, not run */
	printf("linked %d\n", link_refs_exercise(argc == 1000));
	return 0;
}
