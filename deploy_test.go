package caddyzegocallback

// Checks of the deployment files that cannot be run here: no Docker
// daemon, and no systemd as PID 1. What can be checked without them is
// checked: every file the Dockerfile copies exists and is sent in the build
// context, the images are those of xcaddy.sh, Compose keeps Caddy's
// storage on a volume and hands over the secret the Caddyfile reads, the
// systemd drop-in replaces Debian's commands (through systemd's own parser
// when systemd-analyze is installed), and no deployment config writes a
// secret in itself.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func readRepoFile(t *testing.T, name string) string {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// dockerInstruction is one Dockerfile instruction, continuation lines joined.
type dockerInstruction struct {
	line    int
	keyword string // upper case: FROM, COPY, ...
	args    []string
}

func parseDockerfile(text string) []dockerInstruction {
	var instructions []dockerInstruction
	var current strings.Builder
	start := 0
	for i, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		if current.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if current.Len() == 0 {
			start = i + 1
		}
		if body, continued := strings.CutSuffix(trimmed, "\\"); continued {
			current.WriteString(body + " ")
			continue
		}
		current.WriteString(trimmed)
		fields := strings.Fields(current.String())
		current.Reset()
		instructions = append(instructions, dockerInstruction{line: start, keyword: strings.ToUpper(fields[0]), args: fields[1:]})
	}
	return instructions
}

// dockerignored tells whether .dockerignore leaves name (a slash-separated
// path from the context's root) out of the build context. It knows the
// forms the file uses: plain patterns and a leading "**/".
func dockerignored(patterns []string, name string) bool {
	ignored := false
	for _, pattern := range patterns {
		exclude := true
		if negated, ok := strings.CutPrefix(pattern, "!"); ok {
			pattern, exclude = negated, false
		}
		pattern = strings.TrimPrefix(filepath.ToSlash(filepath.Clean(pattern)), "/")
		parts := strings.Split(name, "/")
		for i := range parts {
			prefix := strings.Join(parts[:i+1], "/")
			matched, _ := filepath.Match(pattern, prefix)
			if base, ok := strings.CutPrefix(pattern, "**/"); ok {
				matched, _ = filepath.Match(base, parts[i])
			}
			if matched {
				ignored = exclude
				break
			}
		}
	}
	return ignored
}

func dockerignorePatterns(t *testing.T) []string {
	var patterns []string
	for _, line := range strings.Split(readRepoFile(t, ".dockerignore"), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			patterns = append(patterns, line)
		}
	}
	return patterns
}

func TestDockerignoreMatching(t *testing.T) {
	patterns := []string{".git", "caddy", "**/node_modules", "*.md"}
	for name, want := range map[string]bool{
		".git/config": true,
		"caddy":       true,
		"caddymodule": false,
		"README.md":   true,
		"verify/a.go": false,
		"caddymodule/testdata/standardwebhooks/node_modules/x": true,
	} {
		if got := dockerignored(patterns, name); got != want {
			t.Errorf("dockerignored(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestDockerfileCopiesWhatExists: a COPY of a missing file, or of one the
// .dockerignore leaves out of the context, fails `docker build`.
func TestDockerfileCopiesWhatExists(t *testing.T) {
	patterns := dockerignorePatterns(t)
	for _, must := range []string{".git", "caddy", "**/node_modules"} {
		if !slices.Contains(patterns, must) {
			t.Errorf(".dockerignore does not leave out %s", must)
		}
	}
	copies := 0
	for _, in := range parseDockerfile(readRepoFile(t, "deploy/docker/Dockerfile")) {
		if in.keyword != "COPY" && in.keyword != "ADD" {
			continue
		}
		var operands []string
		fromStage := false
		for _, arg := range in.args {
			if strings.HasPrefix(arg, "--from=") {
				fromStage = true
			}
			if !strings.HasPrefix(arg, "--") {
				operands = append(operands, arg)
			}
		}
		if fromStage {
			continue
		}
		if len(operands) < 2 {
			t.Errorf("Dockerfile:%d: %s needs a source and a destination", in.line, in.keyword)
			continue
		}
		for _, source := range operands[:len(operands)-1] {
			copies++
			name := strings.TrimSuffix(filepath.ToSlash(filepath.Clean(source)), "/")
			if _, err := os.Stat(name); err != nil {
				t.Errorf("Dockerfile:%d: %s %s: not in the build context (the repository's root): %v", in.line, in.keyword, source, err)
			} else if dockerignored(patterns, name) {
				t.Errorf("Dockerfile:%d: %s %s: left out of the build context by .dockerignore", in.line, in.keyword, source)
			}
		}
	}
	if copies == 0 {
		t.Fatal("the Dockerfile copies nothing from the build context")
	}
}

// TestDockerfileVersionsMatchXcaddySh: the image builds what ./xcaddy.sh
// builds.
func TestDockerfileVersionsMatchXcaddySh(t *testing.T) {
	script := readRepoFile(t, "xcaddy.sh")
	caddyVersion := regexp.MustCompile(`(?m)^caddy_version=v(\S+)$`).FindStringSubmatch(script)
	xcaddy := regexp.MustCompile(`(?m)^xcaddy=(github\.com/caddyserver/xcaddy/cmd/xcaddy@v\S+)$`).FindStringSubmatch(script)
	if caddyVersion == nil || xcaddy == nil {
		t.Fatal("xcaddy.sh has no caddy_version=v... or xcaddy=...@v... line")
	}
	version := caddyVersion[1]

	var froms []string
	var build string
	for _, in := range parseDockerfile(readRepoFile(t, "deploy/docker/Dockerfile")) {
		switch in.keyword {
		case "FROM":
			froms = append(froms, in.args[0])
		case "RUN":
			if i := slices.Index(in.args, "build"); i > 0 && strings.Contains(in.args[i-1], "xcaddy") {
				build = strings.Join(in.args, " ")
			}
		}
	}
	if want := []string{"caddy:" + version + "-builder", "caddy:" + version}; !slices.Equal(froms, want) {
		t.Errorf("Dockerfile FROM %v, want %v (xcaddy.sh's Caddy v%s)", froms, want, version)
	}
	if !strings.Contains(build, "go run "+xcaddy[1]+" build v"+version+" ") {
		t.Errorf("Dockerfile builds with %q, want go run %s build v%s", build, xcaddy[1], version)
	}
	if !strings.Contains(build, "--with github.com/zegoedge/caddy-zego-callback@v0.0.0=") {
		t.Errorf("Dockerfile's build does not use the copied module: %q", build)
	}
}

// composeList returns the lines of the caddy service's list under key
// (e.g. "volumes"), as written: "- caddy_data:/data".
func composeList(compose, service, key string) []string {
	var items []string
	inService, inKey := false, false
	for _, line := range strings.Split(compose, "\n") {
		trimmed := strings.TrimSpace(line)
		indent := len(line) - len(strings.TrimLeft(line, " "))
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case indent == 2 && strings.HasSuffix(trimmed, ":"):
			inService, inKey = trimmed == service+":", false
		case indent == 0:
			inService, inKey = false, false
		case inService && indent == 4:
			inKey = trimmed == key+":"
		case inService && inKey && strings.HasPrefix(trimmed, "- "):
			item, _, _ := strings.Cut(strings.TrimPrefix(trimmed, "- "), " #")
			items = append(items, strings.Trim(strings.TrimSpace(item), `"`))
		}
	}
	return items
}

// TestComposeKeepsTheSpool: the spool and the certificates live in Caddy's
// storage, /data/caddy in the official image; without a volume on /data a
// new container starts with an empty spool.
func TestComposeKeepsTheSpool(t *testing.T) {
	compose := readRepoFile(t, "deploy/docker/compose.yaml")
	var dataVolume string
	for _, volume := range composeList(compose, "caddy", "volumes") {
		if source, ok := strings.CutSuffix(volume, ":/data"); ok {
			dataVolume = source
		}
	}
	if dataVolume == "" {
		t.Fatalf("compose.yaml mounts nothing on /data (volumes: %v)", composeList(compose, "caddy", "volumes"))
	}
	if !strings.HasPrefix(dataVolume, "/") && !strings.HasPrefix(dataVolume, ".") &&
		!regexp.MustCompile(`(?m)^volumes:\n(?:  .*\n)*  `+regexp.QuoteMeta(dataVolume)+`:`).MatchString(compose) {
		t.Errorf("compose.yaml mounts volume %s on /data but does not declare it under volumes:", dataVolume)
	}

	production := readRepoFile(t, "Caddyfile.production")
	secretPath := regexp.MustCompile(`\{file\.\{\$ZEGO_CALLBACK_SECRET_FILE:(/run/secrets/[\w.-]+)\}\}`).FindStringSubmatch(production)
	if secretPath == nil {
		t.Fatal("Caddyfile.production does not read its secret from {file.{$ZEGO_CALLBACK_SECRET_FILE:/run/secrets/...}}")
	}
	secret := strings.TrimPrefix(secretPath[1], "/run/secrets/")
	if !slices.Contains(composeList(compose, "caddy", "secrets"), secret) {
		t.Errorf("Caddyfile.production reads %s, but compose.yaml gives the caddy service no secret %s", secretPath[1], secret)
	}

	metricsPort := regexp.MustCompile(`(?m)^http://:(\d+) \{$`).FindStringSubmatch(production)
	if metricsPort == nil {
		t.Fatal("Caddyfile.production has no http://:PORT metrics site")
	}
	ports := composeList(compose, "caddy", "ports")
	if want := "127.0.0.1:" + metricsPort[1] + ":" + metricsPort[1]; !slices.Contains(ports, want) {
		t.Errorf("compose.yaml ports %v: want the metrics site published on the host's loopback only, %s", ports, want)
	}
	for _, port := range []string{"80:80", "443:443"} {
		if !slices.Contains(ports, port) {
			t.Errorf("compose.yaml ports %v: %s is missing", ports, port)
		}
	}
}

// systemdSettings returns the values assigned to key in a unit file's
// [Service] section, in order, empty assignments included.
func systemdSettings(unit, key string) []string {
	var values []string
	for _, line := range strings.Split(unit, "\n") {
		if value, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			values = append(values, strings.TrimSpace(value))
		}
	}
	return values
}

// debianCaddyService is the unit of Debian's caddy package (2.6.2-5,
// /lib/systemd/system/caddy.service), comments left out.
const debianCaddyService = `[Unit]
Description=Caddy
Documentation=https://caddyserver.com/docs/
After=network.target network-online.target
Requires=network-online.target

[Service]
Type=notify
User=caddy
Group=caddy
ExecStart=/usr/bin/caddy run --environ --config /etc/caddy/Caddyfile
ExecReload=/usr/bin/caddy reload --config /etc/caddy/Caddyfile --force
TimeoutStopSec=5s
LimitNOFILE=1048576
LimitNPROC=512
PrivateTmp=true
ProtectSystem=full
AmbientCapabilities=CAP_NET_BIND_SERVICE

[Install]
WantedBy=multi-user.target
`

// TestSystemdDropInReplacesCommands: a service has one ExecStart, so a
// drop-in's own is refused unless an empty assignment clears Debian's
// first; Debian's runs --environ, which writes the environment into the
// journal.
func TestSystemdDropInReplacesCommands(t *testing.T) {
	dropIn := readRepoFile(t, "deploy/systemd/zego-callback.conf")
	for _, key := range []string{"ExecStart", "ExecReload"} {
		values := systemdSettings(dropIn, key)
		if len(values) != 2 || values[0] != "" || values[1] == "" {
			t.Errorf("%s: want an empty %s= line, then the one command; got %q", key, key, values)
			continue
		}
		if strings.Contains(values[1], "--environ") {
			t.Errorf("%s=%s prints the environment, secrets included, into the journal", key, values[1])
		}
		if !strings.Contains(values[1], "--config /etc/caddy/Caddyfile") {
			t.Errorf("%s=%s does not use /etc/caddy/Caddyfile", key, values[1])
		}
	}
	credentials := systemdSettings(dropIn, "LoadCredential")
	if len(credentials) != 1 {
		t.Fatalf("LoadCredential: want one, got %q", credentials)
	}
	id, _, _ := strings.Cut(credentials[0], ":")
	if want := "ZEGO_CALLBACK_SECRET_FILE=%d/" + id; !slices.Contains(systemdSettings(dropIn, "Environment"), want) {
		t.Errorf("Environment: want %s, the credential's path for Caddyfile.production", want)
	}

	systemdAnalyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: the drop-in was checked by the lines above only")
	}
	// systemd's own parser over Debian's unit with the drop-in. The binary
	// is replaced with one that exists, as verify checks it is executable.
	units := t.TempDir()
	write := func(name, text string) {
		t.Helper()
		text = strings.ReplaceAll(text, "/usr/bin/caddy", "/bin/true")
		if err := os.MkdirAll(filepath.Dir(filepath.Join(units, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(units, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("caddy.service", debianCaddyService)
	write("caddy.service.d/zego-callback.conf", dropIn)
	cmd := exec.Command(systemdAnalyze, "verify", "--man=no", filepath.Join(units, "caddy.service"))
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+units+":")
	output, err := cmd.CombinedOutput()
	if err != nil || len(output) > 0 {
		t.Errorf("systemd-analyze verify of Debian's caddy.service with the drop-in: %v\n%s", err, output)
	}
}

// TestDeployConfigsWriteNoSecret: every secret of the deployment configs
// is a runtime placeholder. A {file.*} path must be absolute (or come from
// {$VAR}): the Caddyfile adapter turns {file.name} into a request
// placeholder, which is never resolved at load, so the secret would be
// that placeholder's public text.
func TestDeployConfigsWriteNoSecret(t *testing.T) {
	placeholder := regexp.MustCompile(`^\{(env\.\w+|file\.(/|\{\$)\S*)\}$`)
	for _, name := range []string{"Caddyfile.production", "deploy/local/Caddyfile"} {
		var tokens []string
		for _, line := range strings.Split(readRepoFile(t, name), "\n") {
			for _, token := range strings.Fields(line) {
				if strings.HasPrefix(token, "#") {
					break
				}
				tokens = append(tokens, token)
			}
		}
		secrets := 0
		for i, token := range tokens {
			if i+1 == len(tokens) || (token != "zego_callback" && token != "secret" && token != "sign_upstream") {
				continue
			}
			if next := tokens[i+1]; next != "{" {
				secrets++
				if !placeholder.MatchString(next) {
					t.Errorf("%s: %s is followed by a literal or relative secret, not {env.NAME} or {file./path}", name, token)
				}
			}
		}
		if secrets == 0 {
			t.Errorf("%s: no secret found after zego_callback or secret", name)
		}
	}
}
