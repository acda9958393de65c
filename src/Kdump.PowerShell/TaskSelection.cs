using System.Management.Automation;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;

namespace Kdump.PowerShell;

/// <summary>Shared task selection for the per-task cmdlets (Get-CrashVm, Get-CrashFile): -Pid, -Task, -Name or all tasks.</summary>
internal static class TaskSelection
{
    /// <summary>
    /// The tasks a record selects: by task address when given (exact, what a piped CrashProcess binds), else by pid
    /// (pid 0 selects every CPU's idle task), else by name wildcard, else every task. Unknown pids/addresses are
    /// per-item errors (TaskNotFound).
    /// </summary>
    public static IEnumerable<CrashProcess> Select(TaskTable table, int[]? pids, ulong[]? tasks, string[]? names, Action<Exception, object> error)
    {
        if (tasks is { Length: > 0 })
        {
            foreach (var a in tasks)
            {
                if (table.FindByAddress(a) is { } t) yield return t;
                else error(new Kdump.Engine.KdumpException("TaskNotFound", Kdump.Engine.KdumpErrorKind.NotFound, $"No task_struct at 0x{a:x} in the task list.", a), a);
            }
            yield break;
        }
        if (pids is { Length: > 0 })
        {
            foreach (var pid in pids)
            {
                var found = table.FindByPid(pid);
                if (found.Count == 0) error(new Kdump.Engine.KdumpException("TaskNotFound", Kdump.Engine.KdumpErrorKind.NotFound, $"No task has pid {pid}.", pid), pid);
                foreach (var t in found) yield return t;
            }
            yield break;
        }
        if (names is { Length: > 0 })
        {
            var patterns = names.Select(n => new WildcardPattern(n, WildcardOptions.IgnoreCase)).ToArray();
            foreach (var t in table.Tasks) if (patterns.Any(p => p.IsMatch(t.Command))) yield return t;
            yield break;
        }
        foreach (var t in table.Tasks) yield return t;
    }
}
