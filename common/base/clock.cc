#include "common/base/clock.h"

namespace chime {

SystemClock& SystemClock::Instance() {
  static SystemClock clock;
  return clock;
}

}  // namespace chime
