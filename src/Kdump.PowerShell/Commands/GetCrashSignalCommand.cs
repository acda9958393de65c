using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Signals;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashSignal: each selected task's signal state (crash's <c>sig</c> / <c>foreach sig</c>): handlers of every
/// signal, the blocked mask, pending signals (private and shared) and their queues.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashSignal")]
[OutputType(typeof(CrashSignal))]
public sealed class GetCrashSignalCommand : TaskCommandBase
{
    private SignalReader? _reader;
    private Vmcore? _readerOf;

    protected override void ProcessTask(Vmcore vmcore, CrashProcess task)
    {
        if (_reader is null || !ReferenceEquals(_readerOf, vmcore)) { _reader = new SignalReader(vmcore.Kernel, vmcore); _readerOf = vmcore; }
        WriteObject(_reader.Read(task));
    }
}
