# Sourced by bin/hostprov and scripts/build: is dist/ (npm run build) current with the sources?
#
# Cheap by design, since bin/hostprov asks at every start (one `find`, a few ms): the build writes
# dist/.build-stamp, stamped with the time the build *started*, and the build is fresh when no source file
# (.ts, .cjs, package.json, package-lock.json) is newer. Editing, `git checkout`, `git pull` all touch
# mtimes, so a dev checkout falls back to the sources rather than run a stale build. An installed package
# (no .git beside it) always runs its build: that is what was shipped. HOSTPROV_FROM_SOURCE=1 forces the
# sources (tsx) in any case.

HOSTPROV_SOURCE_DIRS=(agent activities bench cli lib model store testbed vdsm worker workflow-client workflows)

# hostprov_build_is_fresh ROOT: succeeds when ROOT/dist holds a build newer than every source file.
hostprov_build_is_fresh() {
  local root=$1
  [[ -f $root/dist/.build-stamp && -f $root/dist/hostprov.mjs ]] || return 1
  [[ -e $root/.git ]] || return 0
  local newer
  newer="$(cd "$root" && find "${HOSTPROV_SOURCE_DIRS[@]}" package.json package-lock.json \
    \( -name '*.ts' -o -name '*.cjs' -o -name 'package.json' -o -name 'package-lock.json' \) \
    -newer dist/.build-stamp -print -quit 2>/dev/null)"
  [[ -z $newer ]]
}
