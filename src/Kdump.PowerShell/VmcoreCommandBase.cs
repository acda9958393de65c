using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;
using Kdump.PowerShell.Session;

namespace Kdump.PowerShell;

/// <summary>
/// Base of every cmdlet that analyses a dump: -Vmcore (a piped Vmcore, or by property name from any record, or an
/// Id, a name or a path) or else the current dump of this runspace (the one Open-Vmcore opened or chose last).
/// Every record the cmdlet writes names the dump it came from (see <see cref="DumpRecord"/>).
/// </summary>
public abstract class VmcoreCommandBase : KdumpCmdlet
{
    private Vmcore? _resolved;

    /// <summary>
    /// The dump to analyse: a Vmcore (piped from Open-Vmcore/Get-Vmcore: binds its Identity), a record's Vmcore
    /// identity (bound by property name), an Id, a file name or a path. The current dump when omitted. Bound by
    /// property name only: by-value binding would also take piped addresses and names for dumps.
    /// </summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("Identity")]
    [ValidateNotNull]
    [ArgumentCompleter(typeof(VmcoreCompleter))]
    public VmcoreIdentity? Vmcore { get; set; }

    /// <summary>The dump this record works on: -Vmcore, else the current one. Stops the cmdlet when there is none.</summary>
    protected Vmcore ResolveVmcore()
    {
        try
        {
            var v = Vmcore is { } id ? VmcoreSession.Current.Resolve(id, p => SessionState.Path.GetUnresolvedProviderPathFromPSPath(p))
                : VmcoreSession.Current.CurrentVmcore ?? throw VmcoreSession.Current.NoCurrentError();
            v.ThrowIfClosed();
            return _resolved = v;
        }
        catch (KdumpException ex)
        {
            ThrowKdumpError(ex, Vmcore);
            throw; // not reached
        }
    }

    /// <summary>
    /// Writes a record naming its dump: records the engine made without one are stamped with the dump resolved for
    /// this input (so every record of every cmdlet carries Vmcore = Id/Name/Path).
    /// </summary>
    protected new void WriteObject(object? sendToPipeline) => base.WriteObject(Stamp(sendToPipeline));

    /// <inheritdoc cref="WriteObject(object?)"/>
    protected new void WriteObject(object? sendToPipeline, bool enumerateCollection)
    {
        if (!enumerateCollection || sendToPipeline is not System.Collections.IEnumerable items || sendToPipeline is string)
        {
            base.WriteObject(Stamp(sendToPipeline));
            return;
        }
        foreach (var item in items) base.WriteObject(Stamp(item));
    }

    private object? Stamp(object? o) => o is DumpRecord r && _resolved is { } v ? r.WithVmcore(v.Identity) : o;
}
