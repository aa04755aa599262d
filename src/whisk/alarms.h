// The built-in alarms catalog: /whisk.system/alarms/{alarm,once,interval},
// feed actions of kind builtin that hand their lifecycle events to an
// AlarmScheduler, and the fire path the scheduler calls (the trigger is
// fired in-process, as its owner, with the authKey the feed was created
// with). docs/alarms.md.
//
// Thread-safety: as BuiltinRuntime and Controller.
#pragma once

#include "whisk/alarm_scheduler.h"
#include "whisk/builtin_runtime.h"
#include "whisk/controller.h"
#include "whisk/identity.h"

namespace wisp::whisk {

// Registers the three feed functions on `runtime` and the package on
// `controller` (before controller.Start()). `scheduler` must outlive both.
void InstallAlarmsCatalog(BuiltinRuntime& runtime, Controller& controller, AlarmScheduler& scheduler);

// The scheduler's fire callback: authenticates `auth_key` and fires the
// trigger through `controller`. Failures are logged.
AlarmScheduler::FireFn AlarmFirePath(Controller& controller, const Identities& identities);

}  // namespace wisp::whisk
