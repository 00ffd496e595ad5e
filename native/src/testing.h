// Entry points that exist only so the tests can reach failure paths no valid input
// reaches (exported as `testing` by addon.cc; not part of the public API).
#pragma once

#include <napi.h>

namespace tta {

// { parallelForThrows, parallelForThrowsAsync }
Napi::Object TestingExports(Napi::Env env);

}  // namespace tta
