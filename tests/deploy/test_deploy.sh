#!/usr/bin/env bash
# test_deploy.sh — deploy/ checked statically and offline (Docker and
# Kubernetes do not run here), each with a schema-aware validator, and each
# validator shown to reject a broken copy so the check cannot pass vacuously:
#   yamllint (Debian)                   YAML syntax and style of every file
#   kubernetes-models (npm)             every Kubernetes object against the
#                                       Kubernetes OpenAPI schema, unknown
#                                       fields rejected, plus probes/ports,
#                                       selectors, securityContext, limits
#   docker-compose config (Debian)      compose.yaml against the compose schema
#   promtool (Debian prometheus)        Prometheus config, alert rules and
#                                       their unit tests
#   dockerfile-utils (npm)              the Dockerfile's instructions, plus the
#                                       image contract (stages, USER, ENTRYPOINT)
#   recon config                        every RECON_* setting the files set is
#                                       one recon knows, with a valid value
# argv: SOURCE_ROOT RECON_CLI RECON_BROKER RECON_WORKER
set -u
root=$1 RECON=$2 BROKER=$3 WORKER=$4
here=$root/tests/deploy
work=$(mktemp -d /tmp/recon-deploy-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
. "$root/tests/integration/lib.sh"

for tool in node npm yamllint promtool docker-compose; do
    command -v $tool >/dev/null || { echo "FAIL $tool is missing (./dev installs it)"; exit 1; }
done
if [ ! -d "$here/node_modules" ]; then
    (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) >"$work/npm.log" 2>&1 ||
        { cat "$work/npm.log"; echo "FAIL npm ci in tests/deploy"; exit 1; }
fi
V="node $here/validate.js"
fails() { ! "$@" >/dev/null 2>&1; } # fails COMMAND... — true when COMMAND fails

cd "$root"
k8s=(deploy/k8s/*.yaml deploy/k8s/optional/*.yaml)

# ---- YAML ---------------------------------------------------------------------
check "yamllint: every YAML file in deploy/" yamllint -s -c "$here/yamllint.yaml" deploy/ "$here/alerts_test.yaml"
printf 'a: 1\na: 2\n' >"$work/dup.yaml"
check "yamllint rejects a duplicated key" fails yamllint -s -c "$here/yamllint.yaml" "$work/dup.yaml"

# ---- Kubernetes ---------------------------------------------------------------
$V k8s "${k8s[@]}" >"$work/k8s.out"; rc=$?
cat "$work/k8s.out"
check "Kubernetes objects valid against the OpenAPI schema" test $rc -eq 0
for kind in Deployment/recon-broker Service/recon-broker Deployment/recon-worker \
            HorizontalPodAutoscaler/recon-worker PodDisruptionBudget/recon-worker \
            Deployment/recon-web Service/recon-web CronJob/recon-nightly Job/recon-migrate \
            ConfigMap/recon-config Secret/recon-database; do
    check "manifest has $kind" grep -q " $kind\$" "$work/k8s.out"
done
check "the HPA is autoscaling/v2 on an External metric" \
    grep -A3 'type: External' deploy/k8s/worker.yaml
broken() { # broken NAME SED_EXPR FILE — the validator must reject the edit
    sed "$2" "$3" >"$work/$1.yaml"
    cmp -s "$3" "$work/$1.yaml" && { echo "  (edit '$2' changed nothing)"; return 1; }
    fails $V k8s "$work/$1.yaml"
}
check "rejects a misspelt field" broken typo 's/readinessProbe:/readinessProbes:/' deploy/k8s/worker.yaml
check "rejects a field at the wrong level" broken level 's/^      terminationGracePeriodSeconds:/      template_grace: 1\n      terminationGracePeriodSeconds:/' deploy/k8s/worker.yaml
check "rejects a wrong type" broken type 's/replicas: 2/replicas: two/' deploy/k8s/worker.yaml
check "rejects a missing required field" broken required 's/- name: broker$/- imagePullPolicy: IfNotPresent/' deploy/k8s/broker.yaml
check "rejects a bad quantity" broken quantity 's/memory: 512Mi/memory: lots/' deploy/k8s/worker.yaml
check "rejects a probe on an undeclared port" broken port 's/port: http$/port: metrics/' deploy/k8s/worker.yaml
check "rejects a writable root filesystem" broken rootfs 's/readOnlyRootFilesystem: true/readOnlyRootFilesystem: false/' deploy/k8s/web.yaml
check "rejects an unknown kind" broken kind 's/kind: CronJob/kind: CronJobs/' deploy/k8s/cronjob.yaml

# ---- compose ------------------------------------------------------------------
check "compose.yaml valid (docker-compose config)" docker-compose -f deploy/compose.yaml config -q
docker-compose -f deploy/compose.yaml config >"$work/compose.resolved.yaml" 2>/dev/null
check "compose: workers have deploy.replicas" grep -A1 '^    deploy:' "$work/compose.resolved.yaml"
check "compose: the broker schedules runs" grep -q 'RECON_SCHEDULE: 0 2' "$work/compose.resolved.yaml"
check "compose: migrate runs before the broker" grep -q 'service_completed_successfully' "$work/compose.resolved.yaml"
sed 's/^    stop_grace_period: 60s/    stop_grace_period: 60s\n    bogus_key: 1/' deploy/compose.yaml >"$work/compose-key.yaml"
check "compose: rejects an unknown key (control)" fails docker-compose -f "$work/compose-key.yaml" config -q
sed 's/replicas: 2/replicas: two/' deploy/compose.yaml >"$work/compose-type.yaml"
check "compose: rejects a wrong type (control)" fails docker-compose -f "$work/compose-type.yaml" config -q

# ---- settings: every RECON_* the files set is a valid recon setting ---------------
$V env "${k8s[@]}" "$work/compose.resolved.yaml" >"$work/env"
check "deployment files set RECON_* settings" test "$(wc -l <"$work/env")" -ge 10
mapfile -t vars <"$work/env"
env -i PATH="$PATH" "${vars[@]}" "$RECON" config >"$work/config.out" 2>&1
rc=$?
[ $rc -eq 0 ] || cat "$work/config.out"
check "recon accepts every RECON_* setting in deploy/" test $rc -eq 0
check "recon rejects a misspelt one (control)" fails env -i PATH="$PATH" RECON_BROKER_HTPP=x "$RECON" config

# ---- Prometheus ---------------------------------------------------------------
check "promtool check config" promtool check config deploy/prometheus/prometheus.yml
check "promtool check rules" promtool check rules deploy/prometheus/alerts.yaml
check "promtool test rules (alerts fire and stay quiet as designed)" \
    bash -c 'cd "$1" && promtool test rules alerts_test.yaml' _ "$here"
sed 's/recon_queue_latency_seconds > 900/recon_queue_latency_seconds >/' deploy/prometheus/alerts.yaml >"$work/alerts.yaml"
check "promtool rejects a broken expression (control)" fails promtool check rules "$work/alerts.yaml"
# every metric an alert or the HPA uses is one the code exports
for name in $(grep -ohE 'recon_[a-z_]+' deploy/prometheus/alerts.yaml deploy/k8s/worker.yaml | sort -u); do
    check "metric $name is exported by the code" \
        grep -rqE "\"${name%_total}(_total)?\"|\"$name\"" "$root/broker" "$root/worker" "$root/common"
done

# ---- Dockerfile ---------------------------------------------------------------
$V dockerfile deploy/Dockerfile; rc=$?
check "Dockerfile: dockerfile-utils lint and the image contract" test $rc -eq 0
grep -v '^USER' deploy/Dockerfile >"$work/Dockerfile.root"
check "Dockerfile check rejects an image running as root (control)" fails $V dockerfile "$work/Dockerfile.root"
sed 's/^EXPOSE/EXPOSED/' deploy/Dockerfile >"$work/Dockerfile.typo"
check "Dockerfile check rejects an unknown instruction (control)" fails $V dockerfile "$work/Dockerfile.typo"
# every library the binaries link directly comes from a package the runtime
# stage installs (libc6 is in the base image)
runtime_pkgs=$(sed -n '/^FROM .* AS runtime/,$p' deploy/Dockerfile)
missing= checked=
for bin in "$RECON" "$BROKER" "$WORKER"; do
    # sanitizer runtimes appear in the ASan build only; the image builds without
    for so in $(objdump -p "$bin" | awk '/NEEDED/ && $2 !~ /^lib(a|ub|l|t)san/ { print $2 }'); do
        file=$(ldd "$bin" | awk -v so="$so" '$1 == so { print $3 }')
        pkg=$(dpkg -S "$(readlink -f "$file")" 2>/dev/null | head -1 | cut -d: -f1)
        [ -z "$pkg" ] && pkg=$(dpkg -S "$file" 2>/dev/null | head -1 | cut -d: -f1)
        [ -z "$pkg" ] && { missing="$missing $so(no Debian package)"; continue; }
        [ "$pkg" = libc6 ] && continue
        checked="$checked $pkg"
        grep -qw -- "$pkg" <<<"$runtime_pkgs" || missing="$missing $so($pkg)"
    done
done
[ -n "$missing" ] && echo "  not installed by the runtime stage:$missing"
echo "  linked packages:$(tr ' ' '\n' <<<"$checked" | sort -u | tr '\n' ' ')"
check "the runtime stage installs every library the binaries link" test -z "$missing"
check "Dockerfile copies the entrypoint" grep -q 'deploy/entrypoint.sh /usr/local/bin/recon-entrypoint' deploy/Dockerfile
check "entrypoint passes sh -n" sh -n deploy/entrypoint.sh
script=$($V cron-script deploy/k8s/cronjob.yaml)
check "CronJob script passes sh -n" sh -n -c "$script"

summary deploy
