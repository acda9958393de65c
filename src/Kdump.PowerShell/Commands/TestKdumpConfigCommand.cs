using System.Management.Automation;
using Kdump.Engine.Config;

namespace Kdump.PowerShell.Commands;

/// <summary>Test-KdumpConfig: what kdumpctl and mkdumprd would reject or warn about, as findings.</summary>
[Cmdlet(VerbsDiagnostic.Test, "KdumpConfig")]
[OutputType(typeof(KdumpConfigFinding))]
[OutputType(typeof(bool))]
public sealed class TestKdumpConfigCommand : KdumpCmdlet
{
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    /// <summary>The machine's RAM in bytes (default: MemTotal of /proc/meminfo under -Root).</summary>
    [Parameter]
    [ValidateRange(1UL, ulong.MaxValue)]
    public ulong MemorySize { get; set; }

    /// <summary>The architecture whose crashkernel table applies (default: this machine's).</summary>
    [Parameter]
    [ValidateSet("x86_64", "aarch64", "ppc64le", "s390x")]
    public string? Architecture { get; set; }

    /// <summary>Return only $true (no Error findings) or $false.</summary>
    [Parameter]
    public SwitchParameter Quiet { get; set; }

    protected override void ProcessRecord()
    {
        string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
        var options = new KdumpConfigTestOptions
        {
            MemoryBytes = MyInvocation.BoundParameters.ContainsKey(nameof(MemorySize)) ? MemorySize : null,
            Architecture = Architecture ?? CrashKernelParser.HostArchitecture,
        };
        TryEngine(() =>
        {
            var findings = KdumpConfigValidator.Test(root, options);
            if (Quiet) { WriteObject(findings.All(f => f.Severity != FindingSeverity.Error)); return; }
            foreach (var f in findings) WriteObject(f);
        }, root);
    }
}
