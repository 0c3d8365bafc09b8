/* tpl_main.c - device main: bring up the board's console and counter, then serve the link. */
#include "tpl_link.h"
#include "tpl_port.h"

int main(void)
{
    tpl_port_init();
    return tpl_link_run();
}
