#include "whisk/action_runtime.h"

namespace wisp::whisk {

const char* ActivationStatusText(ActivationStatus status) {
  switch (status) {
    case ActivationStatus::kSuccess:
      return "success";
    case ActivationStatus::kApplicationError:
      return "application error";
    case ActivationStatus::kDeveloperError:
      return "action developer error";
    case ActivationStatus::kWhiskError:
      return "whisk internal error";
  }
  return "whisk internal error";
}

}  // namespace wisp::whisk
