// Command pulumi-language-python is the Python language host of this repository's engine build.
//
// Why it exists: Pulumi's own host lives in the module
// github.com/pulumi/pulumi/sdk/python/cmd/pulumi-language-python/v3, which the Go module proxy
// reachable here does not serve (every version is refused). The engine only needs the
// LanguageRuntime gRPC contract, so this small host implements it on top of the public
// packages of github.com/pulumi/pulumi/sdk/v3 (python/toolchain, rpcutil, plugin): it resolves
// the virtualenv that Pulumi.yaml names, reports the provider plugins of installed Pulumi
// packages, and runs the program through Pulumi's own pulumi-language-python-exec script
// (copied next to this binary from the sdk/v3 module by scripts/build-engine.sh).
// docs/engine.md lists what it does not do compared with the release host.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"github.com/pulumi/pulumi/sdk/v3/python/toolchain"
)

// The exec script prints the user's error itself and exits with this code; the engine must then
// not print a second, generic error ("bail").
const userActionableExitCode = 32

// How often the host checks that the engine that started it is still there.
const engineHealthInterval = 10 * time.Second

func main() {
	// Flags older engines pass; accepted so that no engine version fails to start the host.
	tracing := flag.String("tracing", "", "Zipkin-compatible tracing endpoint")
	executor := flag.String("use-executor", "", "the pulumi-language-python-exec script to use")
	flag.String("root", "", "ignored: the engine sends the project root with every request")
	flag.String("virtualenv", "", "ignored: the engine sends runtime options with every request")
	flag.String("toolchain", "", "ignored: the engine sends runtime options with every request")
	flag.String("typechecker", "", "ignored: type checking is not supported by this host")
	flag.Parse()

	execScript, err := findExecScript(*executor)
	if err != nil {
		cmdutil.Exit(err)
	}
	host := &pythonHost{engineAddress: flag.Arg(0), tracing: *tracing, execScript: execScript}

	// Stop on SIGINT/SIGTERM, and when the engine is gone: a CLI that exits early (a config
	// error, a refused destroy) must not leave this process behind.
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if host.engineAddress != "" {
		if err := rpcutil.Healthcheck(ctx, host.engineAddress, engineHealthInterval, cancel); err != nil {
			cmdutil.Exit(fmt.Errorf("could not start the engine health check: %w", err))
		}
	}
	stop := make(chan bool)
	go func() {
		<-ctx.Done()
		close(stop)
	}()

	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, host)
			return nil
		},
		Cancel: stop,
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host gRPC server: %w", err))
	}
	// The engine reads the port from the first line of stdout.
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host gRPC server stopped: %w", err))
	}
}

// findExecScript returns the exec script: the -use-executor flag, else the file next to this binary.
func findExecScript(given string) (string, error) {
	if given != "" {
		return given, nil
	}
	self, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("could not locate the language host binary: %w", err)
	}
	script := filepath.Join(filepath.Dir(self), "pulumi-language-python-exec")
	if _, err := os.Stat(script); err != nil {
		return "", fmt.Errorf("missing %s: run scripts/build-engine.sh to copy it from the sdk/v3 module: %w",
			script, err)
	}
	return script, nil
}

type pythonHost struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	engineAddress string
	tracing       string
	execScript    string
}

// resolveToolchain maps the runtime options of Pulumi.yaml onto Pulumi's own toolchain package.
func resolveToolchain(info *pulumirpc.ProgramInfo) (toolchain.Toolchain, error) {
	if info == nil {
		return nil, errors.New("the engine sent no program info; this host needs Pulumi CLI >= 3.110")
	}
	options := info.GetOptions().AsMap()
	pythonOptions := toolchain.PythonOptions{
		Root:       info.GetRootDirectory(),
		ProgramDir: info.GetProgramDirectory(),
	}
	if venv, ok := options["virtualenv"].(string); ok {
		pythonOptions.Virtualenv = venv
	}
	switch name, _ := options["toolchain"].(string); name {
	case "", "pip":
		pythonOptions.Toolchain = toolchain.Pip
	case "uv":
		pythonOptions.Toolchain = toolchain.Uv
	case "poetry":
		pythonOptions.Toolchain = toolchain.Poetry
	default:
		return nil, fmt.Errorf("runtime.options.toolchain in Pulumi.yaml is %q; allowed: pip, uv, poetry", name)
	}
	if checker, ok := options["typechecker"].(string); ok && checker != "" {
		return nil, fmt.Errorf("runtime.options.typechecker %q is not supported by this engine build; "+
			"remove it from Pulumi.yaml (see docs/engine.md)", checker)
	}
	return toolchain.ResolveToolchain(pythonOptions)
}

// Lists installed distributions that ship a pulumi-plugin.json, in one interpreter start.
const listPluginPackages = `
import importlib.metadata, json
found = []
for dist in importlib.metadata.distributions():
    for f in dist.files or ():
        if f.name in ("pulumi-plugin.json", "pulumiplugin.json") and len(f.parts) == 2:
            found.append({"name": dist.metadata["Name"], "version": dist.version,
                          "path": str(dist.locate_file(f))})
print(json.dumps(found))
`

type pluginPackage struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	Path    string `json:"path"`
}

// requiredPackages reports the provider plugin of each installed Pulumi package. The engine treats
// the list as advisory: it pre-installs what it can and loads a plugin only when a resource needs it.
func requiredPackages(ctx context.Context, info *pulumirpc.ProgramInfo) ([]*pulumirpc.PackageDependency, error) {
	tc, err := resolveToolchain(info)
	if err != nil {
		return nil, err
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return nil, err
	}
	cmd, err := tc.Command(ctx, "-c", listPluginPackages)
	if err != nil {
		return nil, err
	}
	cmd.Dir = info.GetProgramDirectory()
	output, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("listing installed Pulumi packages with %s: %w", cmd.Path, err)
	}
	var found []pluginPackage
	if err := json.Unmarshal(output, &found); err != nil {
		return nil, fmt.Errorf("parsing the installed Pulumi packages: %w", err)
	}
	deps := make([]*pulumirpc.PackageDependency, 0, len(found))
	for _, pkg := range found {
		spec, err := plugin.LoadPulumiPluginJSON(pkg.Path)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", pkg.Path, err)
		}
		if !spec.Resource {
			continue
		}
		name := spec.Name
		if name == "" {
			name = strings.TrimPrefix(pkg.Name, "pulumi-")
		}
		pluginVersion := spec.Version
		if pluginVersion == "" {
			pluginVersion = pkg.Version
		}
		if !strings.HasPrefix(pluginVersion, "v") {
			pluginVersion = "v" + pluginVersion
		}
		deps = append(deps, &pulumirpc.PackageDependency{
			Name: name, Kind: "resource", Version: pluginVersion, Server: spec.Server,
		})
	}
	return deps, nil
}

func (h *pythonHost) GetRequiredPackages(
	ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	deps, err := requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	return &pulumirpc.GetRequiredPackagesResponse{Packages: deps}, nil
}

func (h *pythonHost) GetRequiredPlugins(
	ctx context.Context, req *pulumirpc.GetRequiredPluginsRequest,
) (*pulumirpc.GetRequiredPluginsResponse, error) {
	deps, err := requiredPackages(ctx, req.GetInfo())
	if err != nil {
		return nil, err
	}
	plugins := make([]*pulumirpc.PluginDependency, len(deps))
	for i, dep := range deps {
		plugins[i] = &pulumirpc.PluginDependency{
			Name: dep.Name, Kind: dep.Kind, Version: dep.Version, Server: dep.Server,
		}
	}
	return &pulumirpc.GetRequiredPluginsResponse{Plugins: plugins}, nil
}

// execArguments builds the command line of pulumi-language-python-exec (its argparse flags).
func (h *pythonHost) execArguments(req *pulumirpc.RunRequest) []string {
	args := []string{"-u", h.execScript}
	add := func(flagName, value string) {
		if value != "" {
			args = append(args, "--"+flagName, value)
		}
	}
	add("monitor", req.GetMonitorAddress())
	add("engine", h.engineAddress)
	add("project", req.GetProject())
	add("stack", req.GetStack())
	add("pwd", req.GetPwd())
	add("dry_run", strconv.FormatBool(req.GetDryRun()))
	add("parallel", strconv.Itoa(int(req.GetParallel())))
	add("tracing", h.tracing)
	add("organization", req.GetOrganization())
	add("root_directory", req.GetInfo().GetRootDirectory())
	program := req.GetInfo().GetEntryPoint()
	if program == "" {
		program = req.GetProgram() //nolint:staticcheck // older engines only fill the flat field
	}
	if program == "" {
		program = "."
	}
	args = append(args, program)
	return append(args, req.GetArgs()...)
}

func (h *pythonHost) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	if err := tc.ValidateVenv(ctx); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	config := req.GetConfig()
	if config == nil { // the exec script expects an object, never JSON null
		config = map[string]string{}
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return nil, fmt.Errorf("serializing the stack config: %w", err)
	}
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretKeysJSON, err := json.Marshal(secretKeys)
	if err != nil {
		return nil, fmt.Errorf("serializing the secret config keys: %w", err)
	}

	cmd, err := tc.Command(ctx, h.execArguments(req)...)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	cmd.Dir = req.GetPwd()
	if cmd.Env == nil { // no virtualenv: the toolchain leaves the environment to be inherited
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, "PULUMI_CONFIG="+string(configJSON),
		"PULUMI_CONFIG_SECRET_KEYS="+string(secretKeysJSON))
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr

	err = cmd.Run()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == userActionableExitCode:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode()),
		}, nil
	default:
		return &pulumirpc.RunResponse{
			Error: fmt.Sprintf("Problem executing program (could not run language executor): %v", err),
		}, nil
	}
}

func (h *pythonHost) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

// streamWriter forwards installer output to the CLI as InstallDependencies messages.
type streamWriter struct {
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse]
	stderr bool
}

func (w streamWriter) Write(p []byte) (int, error) {
	chunk := append([]byte(nil), p...)
	msg := &pulumirpc.InstallDependenciesResponse{Stdout: chunk}
	if w.stderr {
		msg = &pulumirpc.InstallDependenciesResponse{Stderr: chunk}
	}
	if err := w.stream.Send(msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

var _ io.Writer = streamWriter{}

func (h *pythonHost) InstallDependencies(
	req *pulumirpc.InstallDependenciesRequest,
	stream grpc.ServerStreamingServer[pulumirpc.InstallDependenciesResponse],
) error {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return err
	}
	ctx := stream.Context()
	stdout, stderr := streamWriter{stream: stream}, streamWriter{stream: stream, stderr: true}
	dir := req.GetInfo().GetProgramDirectory()
	useVersionTools := req.GetUseLanguageVersionTools()
	if err := tc.EnsureVenv(ctx, dir, useVersionTools, true, stdout, stderr); err != nil {
		return err
	}
	return tc.InstallDependencies(ctx, dir, useVersionTools, true, stdout, stderr)
}

func (h *pythonHost) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	info, err := tc.About(ctx)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.AboutResponse{
		Executable: info.PythonExecutable,
		Version:    info.PythonVersion.String(),
		Metadata:   map[string]string{"host": "openrouter-keys engine build (docs/engine.md)"},
	}, nil
}

func (h *pythonHost) GetProgramDependencies(
	ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	tc, err := resolveToolchain(req.GetInfo())
	if err != nil {
		return nil, err
	}
	packages, err := tc.ListPackages(ctx, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	deps := make([]*pulumirpc.DependencyInfo, len(packages))
	for i, pkg := range packages {
		deps[i] = &pulumirpc.DependencyInfo{Name: pkg.Name, Version: pkg.Version}
	}
	return &pulumirpc.GetProgramDependenciesResponse{Dependencies: deps}, nil
}
