using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashBacktrace: kernel backtraces (crash's bt). With no argument the panic task; -All every CPU's running
/// task (bt -a); -Pid / -Task (or Get-CrashProcess output piped in) any task. Unwinds with the ORC tables in the
/// dump (frame pointers when the kernel has none); running tasks start from their CPU's saved registers and may
/// cross IRQ and exception stacks, sleeping tasks from their saved frame.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashBacktrace", DefaultParameterSetName = TargetSet)]
[OutputType(typeof(CrashBacktrace))]
public sealed class GetCrashBacktraceCommand : VmcoreCommandBase
{
    private const string TargetSet = "Target";
    private const string AllSet = "All";

    /// <summary>Process ids; every thread with the id is traced (0: each CPU's idle task).</summary>
    [Parameter(Position = 0, ParameterSetName = TargetSet, ValueFromPipelineByPropertyName = true)]
    public int[]? Pid { get; set; }

    /// <summary>task_struct addresses; takes precedence over -Pid when both arrive from a piped object.</summary>
    [Parameter(ParameterSetName = TargetSet, ValueFromPipelineByPropertyName = true)]
    public ulong[]? Task { get; set; }

    /// <summary>Every CPU's running task, like crash's bt -a.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        Backtracer? bt = null;
        int? panicCpu = null;
        if (!TryEngine(() => { bt = new Backtracer(k!, v); panicCpu = BacktraceTargets.PanicCpu(k!, v.PanicCpu); foreach (var n in bt.Notes) WriteVerbose(n); }, v)) return;

        var tasks = new List<ulong>();
        if (All.IsPresent)
        {
            int n = BacktraceTargets.CpuCount(k!);
            for (int cpu = 0; cpu < n; cpu++)
            {
                int c = cpu;
                ulong? t = null;
                if (!TryEngine(() => t = BacktraceTargets.ActiveTask(k!, c), c)) continue;
                if (t is { } addr && addr != 0) tasks.Add(addr);
                else WriteKdumpError(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No running task is known for CPU {c}.", c));
            }
        }
        else if (Task is { Length: > 0 }) tasks.AddRange(Task);
        else if (Pid is { Length: > 0 })
        {
            foreach (var pid in Pid)
            {
                List<ulong>? found = null;
                if (!TryEngine(() => found = BacktraceTargets.FindByPid(k!, pid, Cancellation), pid)) continue;
                if (found!.Count == 0) WriteKdumpError(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No task has pid {pid}.", pid));
                tasks.AddRange(found);
            }
        }
        else
        {
            if (panicCpu is not { } pc || BacktraceTargets.ActiveTask(k!, pc) is not { } pt || pt == 0)
            {
                WriteKdumpError(new KdumpException("PanicTaskUnknown", KdumpErrorKind.NotFound,
                    "The dump does not say which task panicked (panic_cpu is not set). Use -All, -Pid or -Task.", v));
                return;
            }
            tasks.Add(pt);
        }

        foreach (var task in tasks)
        {
            Cancellation.ThrowIfCancellationRequested();
            CrashBacktrace? trace = null;
            if (!TryEngine(() => trace = bt!.Trace(BacktraceTargets.ForTask(k!, task, panicCpu), Cancellation), task)) continue;
            foreach (var w in trace!.Warnings) WriteWarning($"PID {trace.Pid} ({trace.Command}): {w}");
            WriteObject(trace);
        }
    }
}
