// tailor/tailor.hpp — the umbrella header: includes every module.
#pragma once

#if __cplusplus < 202002L
#error "tailor requires C++20 (compile with -std=c++20 or link tailor::tailor in CMake)"
#endif

#include "tailor/core.hpp"
#include "tailor/learn.hpp"
