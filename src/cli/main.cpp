// The pith command line: dispatches to one function per subcommand (one file each).
#include <iostream>
#include <string>

#include "cli/commands.h"

int main(int argc, char** argv) { return pith::cli::main(argc, argv); }
