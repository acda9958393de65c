using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Stack;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

using Kdump.PowerShell.Completers;

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
    [ArgumentCompleter(typeof(PidCompleter))]
    public int[]? Pid { get; set; }

    /// <summary>task_struct addresses; takes precedence over -Pid when both arrive from a piped object.</summary>
    [Parameter(ParameterSetName = TargetSet, ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[]? Task { get; set; }

    /// <summary>Every CPU's running task, like crash's bt -a.</summary>
    [Parameter(Mandatory = true, ParameterSetName = AllSet)]
    public SwitchParameter All { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        if (!TryEngine(() => k = v.Kernel, v)) return;
        IKernelBacktracer? bt = null;
        int? panicCpu = null;
        if (!TryEngine(() => { bt = Backtracers.For(k!, v); panicCpu = BacktraceTargets.PanicCpu(k!, v.PanicCpu); foreach (var n in bt.Notes) WriteVerbose(n); }, v)) return;

        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(k!, v, panicCpu, Cancellation), v)) return;
        foreach (var w in table!.Warnings) WriteVerbose(w);
        var tasks = new List<BacktraceTarget>();
        BacktraceTarget Target(CrashProcess p) => new(p.Task, p.Pid, p.Command, p.Cpu, p.IsActive, p.IsPanicTask);
        if (All.IsPresent)
        {
            for (int cpu = 0; cpu < table.ActiveTasks.Count; cpu++)
            {
                if (table.ActiveTask(cpu) is { } p) tasks.Add(Target(p));
                else WriteKdumpError(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No running task is known for CPU {cpu}.", cpu));
            }
        }
        else if (Task is { Length: > 0 })
        {
            foreach (var t in Task)
            {
                if (table.FindByAddress(t) is { } p) { tasks.Add(Target(p)); continue; }
                BacktraceTarget? target = null;
                if (TryEngine(() => target = BacktraceTargets.ForTask(k!, t, panicCpu), t)) tasks.Add(target!.Value);
            }
        }
        else if (Pid is { Length: > 0 })
        {
            foreach (var pid in Pid)
            {
                var found = table.FindByPid(pid);
                if (found.Count == 0) WriteKdumpError(new KdumpException("TaskNotFound", KdumpErrorKind.NotFound, $"No task has pid {pid}.", pid));
                tasks.AddRange(found.Select(Target));
            }
        }
        else
        {
            if (table.PanicTask is not { } pt)
            {
                WriteKdumpError(new KdumpException("PanicTaskUnknown", KdumpErrorKind.NotFound,
                    "The dump does not say which task panicked (panic_cpu is not set). Use -All, -Pid or -Task.", v));
                return;
            }
            tasks.Add(Target(pt));
        }

        foreach (var task in tasks)
        {
            Cancellation.ThrowIfCancellationRequested();
            CrashBacktrace? trace = null;
            if (!TryEngine(() => trace = bt!.Trace(task, Cancellation), task.Task)) continue;
            foreach (var w in trace!.Warnings) WriteWarning($"PID {trace.Pid} ({trace.Command}): {w}");
            WriteObject(trace);
        }
    }
}
