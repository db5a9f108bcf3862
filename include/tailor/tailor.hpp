// tailor/tailor.hpp — the umbrella header: includes every module. Prefer the module headers
// (tailor/cate.hpp, tailor/segment.hpp, ...) in your own translation units to keep builds fast.
#pragma once

#if __cplusplus < 202002L
#error "tailor requires C++20 (compile with -std=c++20, or link tailor::tailor in CMake)"
#endif

#include "tailor/bidding.hpp"
#include "tailor/cate.hpp"
#include "tailor/core.hpp"
#include "tailor/ctr.hpp"
#include "tailor/datasets.hpp"
#include "tailor/dtr.hpp"
#include "tailor/io.hpp"
#include "tailor/learn.hpp"
#include "tailor/ope.hpp"
#include "tailor/pipeline.hpp"
#include "tailor/policy.hpp"
#include "tailor/pricing.hpp"
#include "tailor/segment.hpp"
#include "tailor/uplift.hpp"
