# Shared by the scripts: installing what they need, once.

# Installs the Debian packages that are missing.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

ensure_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    [ -x "$HOME/.cargo/bin/cargo" ] && export PATH="$HOME/.cargo/bin:$PATH"
  fi
  if ! command -v cargo >/dev/null 2>&1; then
    echo "kist needs a Rust toolchain (cargo 1.85 or later); install it with rustup" >&2
    exit 1
  fi
}

# Builds the release binary, statically linked: no dynamic loader at start, which is most of a
# short command's fixed cost (bench/ measured 8.7 ms -> 7.5 ms for `run --rm busybox true`).
# Prints the binary's path. An explicit --target keeps proc-macros (built for the host) dynamic.
build_release() {
  local host
  host=$(rustc -vV | sed -n 's/^host: //p')
  RUSTFLAGS="${RUSTFLAGS:-} -C target-feature=+crt-static" \
    cargo build --release --locked -q --target "$host" >&2
  echo "$PWD/target/$host/release/kist"
}

# A cgroup parent for kist below this shell's own cgroups (relative, so resolved per
# hierarchy under the caller's cgroup): hosts that manage their processes' cgroups forbid
# moving them out. Prints the name; remove_cgroup_parent NAME removes it (empty) afterwards.
make_cgroup_parent() {
  echo "kist-$1-$$"
}

remove_cgroup_parent() {
  local name=$1 hier path mount
  while IFS=: read -r _ hier path; do
    # mountinfo: the filesystem type and its options follow " - ".
    mount=$(awk -F' - ' -v h="$hier" '{
      split($1, a, " "); split($2, b, " ");
      if (h == "" && b[1] == "cgroup2") { print a[5]; exit }
      if (h != "" && b[1] == "cgroup" && ("," b[3] ",") ~ ("," h ",")) { print a[5]; exit }
    }' /proc/self/mountinfo)
    [ -n "$mount" ] && [ -d "$mount$path/$name" ] && rmdir "$mount$path/$name" 2>/dev/null
  done < /proc/self/cgroup
  true
}

# For tools that take one absolute cgroup path for every hierarchy (Podman's --cgroup-parent):
# the deepest of this shell's own cgroups, which must contain the others (on this host memory
# is at /process_api/..., the rest at /). A parent below it stays below this shell everywhere.
own_cgroup_path() {
  local deepest=/ path
  while IFS=: read -r _ _ path; do
    [ "${#path}" -gt "${#deepest}" ] && deepest=$path
  done < /proc/self/cgroup
  while IFS=: read -r _ _ path; do
    case "$deepest/" in
      "${path%/}/"*) ;;
      *) echo "own_cgroup_path: this shell's cgroups $path and $deepest diverge" >&2; return 1 ;;
    esac
  done < /proc/self/cgroup
  echo "${deepest%/}"
}

# Writes DIR/containers.conf for Podman on this host (see shared PEERS.md: its default rlimits
# fail without CAP_SYS_RESOURCE; no systemd, no journald) and prints its path.
write_podman_conf() {
  local dir=$1 nofile
  nofile=$(ulimit -Hn)
  mkdir -p "$dir"
  cat > "$dir/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  echo "$dir/containers.conf"
}

# A free TCP port on loopback.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Starts docker-registry on 127.0.0.1:PORT with its storage in DIR/registry; prints its PID.
# Waits until it answers.
start_registry() {
  local dir=$1 port=$2
  mkdir -p "$dir/registry"
  cat > "$dir/registry.yml" <<YML
version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: $dir/registry }, delete: { enabled: true } }
http: { addr: 127.0.0.1:$port }
YML
  docker-registry serve "$dir/registry.yml" >"$dir/registry.log" 2>&1 &
  local pid=$! i
  for i in $(seq 100); do
    if python3 -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$port/v2/')" 2>/dev/null; then
      echo "$pid"
      return 0
    fi
    sleep 0.1
  done
  echo "docker-registry did not start: $(tail -n 5 "$dir/registry.log")" >&2
  return 1
}

# Prints "median" lines and ratios from a file of "NAME MILLISECONDS" lines. REFERENCE is the
# name the others are compared with.
report_medians() {
  python3 - "$@" <<'PY'
import statistics, sys
path, ref = sys.argv[1], sys.argv[2]
times = {}
for line in open(path):
    name, ms = line.split()
    times.setdefault(name, []).append(float(ms))
med = {n: statistics.median(t) for n, t in times.items()}
print(f"| command | runs | median | min | max | it ÷ {ref} |")
print("|---|---|---|---|---|---|")
for n, t in sorted(times.items(), key=lambda kv: kv[0] != ref):
    print(f"| {n} | {len(t)} | {med[n] / 1000:.2f} s | {min(t) / 1000:.2f} s | "
          f"{max(t) / 1000:.2f} s | {med[n] / med[ref]:.2f} |")
PY
}
