using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Sched;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashRunQueue: each CPU's run queue at the crash (crash's <c>runq</c>): the running task and the real-time
/// and CFS tasks queued behind it. -Queued emits the queued tasks themselves, one object each.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashRunQueue")]
[OutputType(typeof(CrashRunQueue))]
[OutputType(typeof(CrashRunQueueTask))]
public sealed class GetCrashRunQueueCommand : VmcoreCommandBase
{
    /// <summary>Only these CPUs (crash's runq -c).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    [ArgumentCompleter(typeof(CpuCompleter))]
    public int[]? Cpu { get; set; }

    /// <summary>Emit the queued tasks (CrashRunQueueTask) instead of one record per CPU.</summary>
    [Parameter]
    public SwitchParameter Queued { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        RunQueueReader? reader = null;
        TaskTable? tasks = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        try { tasks = TaskTable.Get(k!, v, cancellation: Cancellation); }
        catch (KdumpException ex) { WriteWarning($"The task list cannot be read; commands come from the task_structs alone: {ex.Message}"); }
        if (!TryEngine(() => reader = new RunQueueReader(k!, v, tasks), v)) return;
        TryEngine(() =>
        {
            int n = k!.PerCpuOffsets.Count;
            if (Cpu is { Length: > 0 })
                foreach (var c in Cpu.Where(c => c >= n))
                    WriteKdumpError(new KdumpException("CpuNotFound", KdumpErrorKind.NotFound, $"CPU {c} does not exist (nr_cpu_ids {n}).", c), c);
            ulong rqVar = k.GetSymbol("runqueues").Address;
            for (int cpu = 0; cpu < n; cpu++)
            {
                Cancellation.ThrowIfCancellationRequested();
                if (Cpu is { Length: > 0 } && !Cpu.Contains(cpu)) continue;
                CrashRunQueue? rq = null;
                if (!TryEngine(() => rq = reader!.Read(cpu, k.PerCpuAddress(rqVar, cpu), Cancellation), cpu)) continue;
                foreach (var w in rq!.Warnings) WriteWarning(w);
                if (Queued) WriteObject(rq.Queued, enumerateCollection: true);
                else WriteObject(rq);
            }
        }, v);
    }
}
