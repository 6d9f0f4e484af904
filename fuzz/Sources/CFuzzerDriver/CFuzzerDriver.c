// The target exists for its header; SwiftPM needs one source file to build it.
#include "CFuzzerDriver.h"
