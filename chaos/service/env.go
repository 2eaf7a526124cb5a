package service

import (
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
)

// environ builds the child's environment; see the package comment.
func (p *Process) environ() []string {
	env := make(map[string]string)
	for _, kv := range os.Environ() {
		k, v, _ := strings.Cut(kv, "=")
		if _, dup := env[k]; !dup && !serviceVariable(k) {
			env[k] = v
		}
	}
	env["ELECTRIC_PORT"] = strconv.Itoa(p.port)
	env["ELECTRIC_ADMIN_PORT"] = strconv.Itoa(p.adminPort)
	env["ELECTRIC_STORAGE_DIR"] = p.opts.StorageDir
	if _, ok := p.opts.Env["ELECTRIC_SECRET"]; !ok {
		env["ELECTRIC_INSECURE"] = "true"
	}
	maps.Copy(env, p.opts.Env)
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// serviceVariable reports whether the service reads name (SHAPE_API §23,
// aliases included), so the test's own environment must not pass it on.
func serviceVariable(name string) bool {
	switch name {
	case "DATABASE_URL", "DATABASE_REQUIRE_SSL", "DATABASE_USE_IPV6", "HTTP_PORT", "LOG_LEVEL",
		"CLEANUP_REPLICATION_SLOTS_ON_SHUTDOWN":
		return true
	}
	return strings.HasPrefix(name, "ELECTRIC_") || strings.HasPrefix(name, "SHAPESYNC_")
}
