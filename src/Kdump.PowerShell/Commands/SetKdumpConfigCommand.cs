using System.Collections;
using System.Globalization;
using System.Management.Automation;
using Kdump.Engine.Config;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>Set-KdumpConfig: changes the named kdump settings and nothing else, atomically and with a backup.</summary>
[Cmdlet(VerbsCommon.Set, "KdumpConfig", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(KdumpConfigChange))]
public sealed class SetKdumpConfigCommand : KdumpCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    /// <summary>The dump directory (kdump.conf path, KDUMP_COREDIR).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>"&lt;type&gt; &lt;location&gt;" or "local".</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Target { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? CoreCollector { get; set; }

    [Parameter]
    [ValidateSet("none", "zlib", "lzo", "snappy", "zstd", IgnoreCase = true)]
    public string? Compression { get; set; }

    [Parameter]
    [ValidateRange(0, 31)]
    public int? DumpLevel { get; set; }

    /// <summary>
    /// crashkernel= value(s). Unquoted ranges (2G-64G:256M,64G-:512M) reach the cmdlet as an array, which is joined
    /// back with commas.
    /// </summary>
    [Parameter]
    [CrashKernelTransformation]
    [ValidateNotNullOrEmpty]
    public string? CrashKernel { get; set; }

    [Parameter]
    [ValidateSet("reboot", "halt", "poweroff", "shell", "dump_to_rootfs")]
    public string? FailureAction { get; set; }

    [Parameter]
    [ValidateSet("reboot", "halt", "poweroff")]
    public string? FinalAction { get; set; }

    /// <summary>Limits -CrashKernel to the boot entries matching this id, title, version or kernel (wildcards).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [ArgumentCompleter(typeof(KernelCompleter))]
    public string? Kernel { get; set; }

    /// <summary>Write even when Test-KdumpConfig would report errors for the result.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override void ProcessRecord()
    {
        string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
        var update = new KdumpConfigUpdate
        {
            Path = Path,
            Target = Target,
            CoreCollector = CoreCollector,
            Compression = Compression is null ? null : Enum.Parse<DumpCompression>(Compression, ignoreCase: true),
            DumpLevel = DumpLevel,
            CrashKernel = CrashKernel,
            FailureAction = FailureAction,
            FinalAction = FinalAction,
            Kernel = Kernel,
        };
        TryEngine(() =>
        {
            foreach (var change in KdumpConfigEditor.Set(root, update, Engine, force: Force)) WriteObject(change);
        }, root);
    }
}

/// <summary>
/// pwsh parses an unquoted 2G-64G:256M,64G-:512M as an array of two strings; a crashkernel= value uses commas itself,
/// so the elements are joined back with commas. Numbers (256MB) become their byte count.
/// </summary>
internal sealed class CrashKernelTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        object? v = inputData is PSObject p ? p.BaseObject : inputData;
        return v switch
        {
            null or string => v,
            IEnumerable list => string.Join(',', list.Cast<object?>().Select(Text)),
            _ => Text(v),
        };
    }

    private static string Text(object? o) => (o is PSObject p ? p.BaseObject : o) switch
    {
        null => "",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var x => x.ToString() ?? "",
    };
}
