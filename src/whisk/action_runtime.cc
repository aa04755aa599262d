#include "whisk/action_runtime.h"

#include "store/digest.h"

namespace wisp::whisk {

const char* ActivationStatusText(ActivationStatus status) {
  switch (status) {
    case ActivationStatus::kSuccess: return "success";
    case ActivationStatus::kApplicationError: return "application error";
    case ActivationStatus::kDeveloperError: return "action developer error";
    case ActivationStatus::kWhiskError: return "whisk internal error";
  }
  return "whisk internal error";
}

std::string ContentDigest(bool binary, std::string_view code) {
  // The flag leads, so the same text as a script and as base64 differ.
  return (binary ? "b-" : "t-") + store::Sha256Hex(code);
}

}  // namespace wisp::whisk
