using System.Management.Automation;
using Kdump.Engine.Config;

namespace Kdump.PowerShell.Commands;

/// <summary>Get-KdumpStatus: is kdump armed on the running system ("kdumpctl status").</summary>
[Cmdlet(VerbsCommon.Get, "KdumpStatus")]
[OutputType(typeof(KdumpStatus))]
public sealed class GetKdumpStatusCommand : KdumpCmdlet
{
    /// <summary>The root holding proc/ and sys/ (default /, the running system; the service is only asked then).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string Root { get; set; } = "/";

    protected override void ProcessRecord()
    {
        string root = SessionState.Path.GetUnresolvedProviderPathFromPSPath(Root);
        TryEngine(() => WriteObject(KdumpStatusReader.Read(root)), root);
    }
}
