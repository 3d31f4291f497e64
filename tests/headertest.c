/* certmint.h must compile alone with -std=c99 -pedantic -Werror. */
#include <certmint.h>

int
main(void)
{
	return cm_strerror(CM_OK) == 0;
}
