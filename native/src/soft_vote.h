#pragma once

#include <napi.h>

namespace tta {

// softVote(predictions, views, n, classes, merge, weights, scores, labels, threads)
// merges [views, n, classes] into scores [n, classes] and labels [n]. Returns -1,
// or the flat index of the first value that is not a valid probability (NaN or
// infinite; negative for gmean) so the TS layer can name it in its error. The
// async variant returns a Promise of that number.
Napi::Value SoftVote(const Napi::CallbackInfo& info);
Napi::Value SoftVoteAsync(const Napi::CallbackInfo& info);

}  // namespace tta
