using System.Management.Automation;
using Kdump.Engine.Linux.Mm;
using Kdump.Engine.Linux.Tasks;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashVm: each task's address space (crash's <c>vm</c>): mm, page-table root, RSS, total_vm and every area
/// (vm_area_struct, start, end, flags, file) — from the maple tree on Linux ≥ 6.1, the mmap list before. A task whose
/// mm cannot be read is a per-task error (TaskMemoryUnavailable) and the others still come.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashVm")]
[OutputType(typeof(CrashVm))]
public sealed class GetCrashVmCommand : VmcoreCommandBase
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

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TaskTable? table = null;
        if (!TryEngine(() => table = TaskTable.Get(v.Kernel, v, null, Cancellation), v)) return;
        foreach (var t in TaskSelection.Select(table!, Pid, Task, Name, (ex, target) => WriteKdumpError(ex, target)))
        {
            Cancellation.ThrowIfCancellationRequested();
            TryEngine(() => WriteObject(TaskVm.Read(v.Kernel, t, Cancellation)), t);
        }
    }
}
