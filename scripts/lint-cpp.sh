#!/usr/bin/env bash
# C++ gates: clang-format (the layout in .clang-format) and clang-tidy (the checks in
# .clang-tidy) over every addon's sources, against a compile database from cmake-js.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t sources < <(git ls-files 'native/src/*.cc' 'native/src/*.h' 'packages/*/src/*.cc' 'packages/*/src/*.h' 'packages/*/src/**/*.cc' 'packages/*/src/**/*.h' | sort -u)
clang-format --dry-run --Werror "${sources[@]}"
for addon in $(git ls-files '*/CMakeLists.txt' 'CMakeLists.txt' | xargs -n1 dirname | sort -u); do
  build="$addon/build-tidy"
  (cd "$addon" && npx cmake-js configure --out build-tidy --CDCMAKE_EXPORT_COMPILE_COMMANDS=ON >/dev/null)
  mapfile -t units < <(printf '%s\n' "${sources[@]}" | grep "^$addon/" | grep '\.cc$')
  clang-tidy --quiet -p "$build" "${units[@]}" 2> >(grep -v 'warnings generated' >&2)
done
echo "lint-cpp: clang-format and clang-tidy found nothing"
