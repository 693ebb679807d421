# Sourced by .ci/run and scripts/test.sh: build settings that keep a full test
# build of the workspace within a few GB of disk. Full debuginfo and
# incremental state for ~190 test and example binaries took over 70 GB and
# filled the disk mid-run; line tables still give backtraces file:line.
# Both are environment settings (not [profile] entries) so that the projects
# built outside the workspace (scripts/check-scratch.sh, kratos-cli's tests)
# use them too and share the workspace's compiled dependencies.
# A value already in the environment wins.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
export CARGO_PROFILE_DEV_DEBUG="${CARGO_PROFILE_DEV_DEBUG:-line-tables-only}"
