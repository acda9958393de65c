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
public sealed class GetCrashVmCommand : TaskCommandBase
{
    protected override void ProcessTask(Vmcore vmcore, CrashProcess task) =>
        WriteObject(TaskVm.Read(vmcore.Kernel, task, Cancellation));
}
