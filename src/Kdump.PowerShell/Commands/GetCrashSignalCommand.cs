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
        var sig = _reader.Read(task);
        // an unreadable signal_struct/sighand_struct page: the partial answer, and a warning naming the error id
        foreach (var w in sig.Warnings) WriteWarning($"PID {sig.Pid} ({sig.Command}): {w}");
        WriteObject(sig);
    }
}
