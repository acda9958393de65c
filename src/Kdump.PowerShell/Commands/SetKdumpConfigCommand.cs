using System.Management.Automation;
using Kdump.Engine.Config;

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

    [Parameter]
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
