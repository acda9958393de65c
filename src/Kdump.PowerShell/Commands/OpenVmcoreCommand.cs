using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Dump;
using Kdump.Engine.Model;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Open-Vmcore: opens crash dumps (ELF, kdump-compressed, flattened, split sets — chosen by their magic) and makes
/// the last one current. Paths from the pipeline are collected and opened together at the end, so the parts of a
/// split set given in any order open as one dump.
/// </summary>
[Cmdlet(VerbsCommon.Open, "Vmcore", DefaultParameterSetName = PathSet)]
[OutputType(typeof(Vmcore))]
public sealed class OpenVmcoreCommand : KdumpCmdlet
{
    private const string PathSet = "Path";
    private const string LiteralPathSet = "LiteralPath";
    private readonly List<string> _paths = new();

    /// <summary>Dump files; wildcards allowed. A pattern or path that matches nothing is an error (VmcoreNotFound).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] Path { get; set; } = Array.Empty<string>();

    /// <summary>Dump files taken exactly as written (no wildcards: vmcore[1].kdump); binds Get-ChildItem's output.</summary>
    [Parameter(Mandatory = true, ParameterSetName = LiteralPathSet, ValueFromPipelineByPropertyName = true)]
    [Alias("PSPath", "LP", "FullName")]
    [ValidateNotNullOrEmpty]
    public string[] LiteralPath { get; set; } = Array.Empty<string>();

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Vmlinux { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? SystemMap { get; set; }

    [Parameter]
    public TypeSourcePreference TypeSource { get; set; } = TypeSourcePreference.Auto;

    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        bool literal = ParameterSetName == LiteralPathSet;
        foreach (var p in literal ? LiteralPath : Path)
        {
            try
            {
                ProviderInfo provider;
                IReadOnlyList<string> resolved;
                if (literal)
                {
                    var full = SessionState.Path.GetUnresolvedProviderPathFromPSPath(p, out provider, out _);
                    resolved = File.Exists(full) || Directory.Exists(full) ? new[] { full } : Array.Empty<string>();
                }
                else
                {
                    resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(p, out provider);
                    // A file whose name holds wildcard characters (vmcore[1].kdump) still opens by -Path when the
                    // pattern matches nothing else.
                    if (resolved.Count == 0 && WildcardPattern.ContainsWildcardCharacters(p)
                        && SessionState.Path.GetUnresolvedProviderPathFromPSPath(p) is { } exact && File.Exists(exact))
                        resolved = new[] { exact };
                }
                if (provider.Name != "FileSystem")
                {
                    WriteKdumpError(new KdumpException("VmcorePathNotFile", KdumpErrorKind.InvalidArgument, $"'{p}' is not a file-system path.", p));
                    continue;
                }
                if (resolved.Count == 0)
                {
                    WriteKdumpError(new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound,
                        literal || !WildcardPattern.ContainsWildcardCharacters(p) ? $"Cannot find dump file '{p}'." : $"No file matches '{p}'.", p));
                    continue;
                }
                foreach (var r in resolved)
                {
                    if (Directory.Exists(r)) { WriteKdumpError(new KdumpException("VmcorePathIsDirectory", KdumpErrorKind.InvalidArgument, $"'{r}' is a directory, not a dump file.", r)); continue; }
                    if (!_paths.Contains(r, StringComparer.Ordinal)) _paths.Add(r);
                }
            }
            catch (ItemNotFoundException)
            {
                WriteKdumpError(new KdumpException("VmcoreNotFound", KdumpErrorKind.NotFound, $"Cannot find dump file '{p}'.", p));
            }
            catch (Exception ex) when (ex is ProviderNotFoundException or System.Management.Automation.DriveNotFoundException or PSNotSupportedException)
            {
                WriteKdumpError(new KdumpException("VmcorePathNotFile", KdumpErrorKind.InvalidArgument, $"'{p}' is not a usable path: {ex.Message}", p, ex));
            }
        }
    }

    protected override void EndProcessing()
    {
        if (_paths.Count == 0) return;
        string? vmlinux = ResolveOptionalFile(Vmlinux, "Vmlinux");
        string? systemMap = ResolveOptionalFile(SystemMap, "SystemMap");
        var session = VmcoreSession.Current;

        var toOpen = new List<string>();
        foreach (var p in _paths)
        {
            var existing = session.FindByPaths(new[] { p });
            if (existing is not null && !Force)
            {
                WriteVerbose($"'{p}' is already open (Id {existing.Id}); making it current. Use -Force to open it again.");
                if (vmlinux is not null && !TryEngine(() => existing.AttachVmlinux(vmlinux, Force, TypeSource, Engine), vmlinux)) continue;
                if (systemMap is not null) existing.SystemMap = systemMap;
                session.MakeCurrent(existing);
                WriteObject(existing);
                continue;
            }
            toOpen.Add(p);
        }
        if (toOpen.Count == 0) return;

        var options = new DumpOpenOptions { Force = Force };
        IReadOnlyList<DumpOpenResult> results;
        try { results = DumpFile.OpenAll(toOpen, options, Engine); }
        catch (OperationCanceledException) { throw new PipelineStoppedException(); }

        foreach (var r in results)
        {
            if (r.Error is not null) { WriteKdumpError(r.Error, r.Paths[0]); continue; }
            var v = new Vmcore(r.Dump!, null, systemMap);
            if (vmlinux is not null)
            {
                try { v.AttachVmlinux(vmlinux, Force, TypeSource, Engine); }
                catch (Exception ex) when (ErrorMapper.IsEngineError(ex))
                {
                    v.Dispose();
                    WriteKdumpError(ex, vmlinux);
                    continue;
                }
            }
            session.Add(v);
            WriteVerbose($"Opened {v.Name}: {v.Format}{(v.Format != v.PayloadFormat ? $" ({v.PayloadFormat})" : "")}, {v.Compression}, producer {v.Producer}, kernel {v.KernelRelease ?? "unknown"}; it is now the current dump (Id {v.Id}).");
            WriteObject(v);
        }
    }

    private string? ResolveOptionalFile(string? path, string parameter)
    {
        if (path is null) return null;
        try
        {
            var resolved = SessionState.Path.GetResolvedProviderPathFromPSPath(path, out _);
            if (resolved.Count == 1 && File.Exists(resolved[0])) return resolved[0];
        }
        catch (Exception ex) when (ex is ItemNotFoundException or ProviderNotFoundException or System.Management.Automation.DriveNotFoundException) { }
        WriteKdumpError(new KdumpException($"{parameter}NotFound", KdumpErrorKind.NotFound, $"Cannot find the -{parameter} file '{path}'; the dump opens without it.", path));
        return null;
    }
}
