using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Modules;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashModule: the loaded kernel modules (crash's mod): name, struct module address, core image base and size,
/// and with -ModulePath the matching .ko file. Read from the kernel's modules list with the types from BTF.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashModule")]
[OutputType(typeof(CrashModule))]
public sealed class GetCrashModuleCommand : VmcoreCommandBase
{
    /// <summary>Module names to show; wildcards allowed; '-' and '_' match each other.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ModuleNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>A directory searched recursively for name.ko, .ko.xz, .ko.gz and .ko.zst (e.g. /lib/modules/&lt;release&gt;).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ModulePath { get; set; }

    private ModuleFileIndex? _index;

    protected override void BeginProcessing()
    {
        if (ModulePath is null) return;
        var dir = GetUnresolvedProviderPathFromPSPath(ModulePath);
        try { _index = new ModuleFileIndex(dir, Cancellation); }
        catch (Exception ex) when (ErrorMapper.IsEngineError(ex)) { ThrowKdumpError(ex, ModulePath); }
        if (_index!.Truncated) WriteWarning($"Stopped searching '{dir}' after {ModuleFileIndex.MaxFiles} files.");
    }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        IReadOnlyList<LoadedModule>? mods = null;
        IReadOnlyList<string> warnings = Array.Empty<string>();
        if (!TryEngine(() => mods = ModuleReader.Read(k!, out warnings), v)) return;
        foreach (var w in warnings) WriteWarning(w);
        var patterns = Name?.Select(n => new WildcardPattern(ModuleFileIndex.Normalize(n), WildcardOptions.IgnoreCase)).ToList();
        var matched = new bool[Name?.Length ?? 0];
        foreach (var m in mods!.OrderBy(m => m.Base).ThenBy(m => m.Object))
        {
            if (patterns is not null)
            {
                bool any = false;
                for (int i = 0; i < patterns.Count; i++) if (patterns[i].IsMatch(m.Name)) { any = true; matched[i] = true; }
                if (!any) continue;
            }
            WriteObject(ModuleReader.ToCrashModule(m, _index));
        }
        for (int i = 0; i < matched.Length; i++)
            if (!matched[i] && !WildcardPattern.ContainsWildcardCharacters(Name![i]))
                WriteKdumpError(new KdumpException("ModuleNotFound", KdumpErrorKind.NotFound, $"No module '{Name[i]}' is loaded.", Name[i]));
    }
}
