// releaseFreedMemory(): gives the C heap's free pages back to the system
// (glibc's malloc_trim(0)); true if any were. Why: glibc only returns the top
// of its heap by itself, and memory freed between live allocations (start-up's
// parsing and compiling, a burst of tunnels) stayed resident in an idle
// daemon. Without glibc (musl, macOS) it does nothing and returns false.
#include <node_api.h>
#include <stdbool.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static napi_value release_freed_memory(napi_env env, napi_callback_info info) {
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_value result;
  napi_get_boolean(env, released, &result);
  return result;
}

NAPI_MODULE_INIT() {
  napi_value fn;
  napi_create_function(env, "releaseFreedMemory", NAPI_AUTO_LENGTH, release_freed_memory, NULL, &fn);
  napi_set_named_property(env, exports, "releaseFreedMemory", fn);
  return exports;
}
