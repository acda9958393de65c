using System.Management.Automation;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell;

/// <summary>
/// Base of the cmdlets that answer per task (Get-CrashVm, Get-CrashFile): -Pid, -Task (both bound by property name
/// from a piped CrashProcess) and -Name select the tasks, all tasks by default. A task whose data cannot be read is
/// a per-task error and the others still come.
/// </summary>
public abstract class TaskCommandBase : VmcoreCommandBase
{
    /// <summary>Only these pids (binds a piped CrashProcess's Pid).</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(PidCompleter))]
    public int[]? Pid { get; set; }

    /// <summary>Only the tasks at these task_struct addresses (binds a piped CrashProcess's Task).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [AddressTransformation]
    public ulong[]? Task { get; set; }

    /// <summary>Only tasks whose command matches one of these wildcards.</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TaskNameCompleter))]
    public string[]? Name { get; set; }

    /// <summary>Writes the answer for one selected task; engine errors become a per-task error.</summary>
    protected abstract void ProcessTask(Vmcore vmcore, CrashProcess task);

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(v.Kernel, v, null, Cancellation), v)) return;
        var selected = TaskSelection.Select(table!, Pid, Task, Name, (ex, target) => WriteKdumpError(ex, target)).ToList();
        var activity = MyInvocation.MyCommand.Name;
        for (int i = 0; i < selected.Count; i++)
        {
            Cancellation.ThrowIfCancellationRequested();
            var t = selected[i];
            if (selected.Count > 16 && i % 8 == 0)
                Engine.Progress(activity, $"PID {t.Pid} {t.Command} ({i + 1} of {selected.Count} tasks)", i * 100 / selected.Count);
            TryEngine(() => ProcessTask(v, t), t);
        }
        if (selected.Count > 16) Engine.Progress(activity, "done", 100);
    }
}
