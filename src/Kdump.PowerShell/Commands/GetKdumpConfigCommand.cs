using System.Management.Automation;
using Kdump.Engine.Config;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-KdumpConfig: the host's kdump configuration (kdump.conf / kdump-tools / sysconfig and crashkernel=).</summary>
[Cmdlet(VerbsCommon.Get, "KdumpConfig", DefaultParameterSetName = SummarySet)]
[OutputType(typeof(KdumpConfiguration), ParameterSetName = [SummarySet])]
[OutputType(typeof(KdumpConfigDirective), ParameterSetName = [DirectiveSet])]
[OutputType(typeof(KernelBootEntry), ParameterSetName = [BootEntrySet])]
public sealed class GetKdumpConfigCommand : KdumpCmdlet
{
    private const string SummarySet = "Summary";
    private const string DirectiveSet = "Directive";
    private const string BootEntrySet = "BootEntry";

    /// <summary>The root of the file system to read (default /): a mounted image or a copy of /etc and /boot.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    /// <summary>Output every directive or variable (Name, Value, File, Line) instead of the summary.</summary>
    [Parameter(Mandatory = true, ParameterSetName = DirectiveSet)]
    public SwitchParameter Directive { get; set; }

    /// <summary>With -Directive: only directives whose name matches (wildcards).</summary>
    [Parameter(Position = 0, ParameterSetName = DirectiveSet)]
    [SupportsWildcards]
    public string[]? Name { get; set; }

    /// <summary>Output the kernel command lines (GRUB defaults, BLS entries, grub.conf kernels) and their crashkernel= values.</summary>
    [Parameter(Mandatory = true, ParameterSetName = BootEntrySet)]
    public SwitchParameter BootEntry { get; set; }

    protected override void ProcessRecord()
    {
        string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
        TryEngine(() =>
        {
            var config = KdumpConfigReader.Read(root);
            switch (ParameterSetName)
            {
                case DirectiveSet:
                    var patterns = Name?.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToList();
                    foreach (var d in config.Directives)
                        if (patterns is null || patterns.Any(p => p.IsMatch(d.Name))) WriteObject(d);
                    break;
                case BootEntrySet:
                    foreach (var e in config.BootEntries) WriteObject(e);
                    break;
                default:
                    WriteObject(config);
                    break;
            }
        }, root);
    }
}
