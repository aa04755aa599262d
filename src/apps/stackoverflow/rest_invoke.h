// InvokeThroughRestApi: the invoker's way to start a handler activation when
// it runs as an action exported to Apache OpenWhisk (docs/export.md), where
// there is no controller in the same process. It makes the call a `wsk
// action invoke --blocking` makes: POST /api/v1/namespaces/{ns}/actions/
// {[pkg/]name}?blocking=true, with the key OpenWhisk hands the action.
//
// The platform is found, at each call, in the environment the actionloop
// protocol sets for the running activation: `__OW_API_HOST` (a host without
// a scheme gets https://) and `__OW_API_KEY` ("uuid:key", sent as Basic
// auth; the action needs the annotation `provide-api-key: true`).
//
// Replies map as Controller::Invoke's do with result_only: 200 and 502 carry
// the activation's result, 202 means it still runs; 429 is ResourceExhausted
// (the invoker waits and tries again), any other status an error that quotes
// OpenWhisk's `error`.
//
// Thread-safety: the returned function may be called from many threads at
// once; `http` must outlive it.
#pragma once

#include "apps/stackoverflow/actions.h"
#include "http/client.h"

namespace wisp::stackoverflow {

HandlerInvoke InvokeThroughRestApi(http::Client& http);

}  // namespace wisp::stackoverflow
