using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>A task's address space (crash's <c>vm</c>): the mm, its page-table root, sizes and its areas.</summary>
public sealed class CrashVm : DumpRecord
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public int Cpu { get; init; }
    public string Command { get; init; } = "";
    /// <summary>task->mm (0 for kernel threads, which have no areas).</summary>
    public KernelAddress Mm { get; init; }
    /// <summary>mm->pgd, the page-table root (kernel virtual): pipe to Convert-CrashAddress -Pgd.</summary>
    public KernelAddress Pgd { get; init; }
    /// <summary>Resident KiB (as Get-CrashProcess's Rss).</summary>
    public ulong Rss { get; init; }
    /// <summary>mm->total_vm in KiB.</summary>
    public ulong TotalVm { get; init; }
    public IReadOnlyList<CrashVmArea> Areas { get; init; } = Array.Empty<CrashVmArea>();

    public string Header => $"PID: {Pid,-8} TASK: {Task:x16}  CPU: {Cpu,-3}  COMMAND: \"{Command}\"";
    public override string ToString() => $"{Header} MM {Mm:x} PGD {Pgd:x} RSS {Rss}k TOTAL_VM {TotalVm}k ({Areas.Count} areas)";
}

/// <summary>One vm_area_struct of a task.</summary>
public sealed class CrashVmArea : DumpRecord
{
    public int Pid { get; init; }
    public KernelAddress Task { get; init; }
    public string Command { get; init; } = "";
    /// <summary>The vm_area_struct address.</summary>
    public KernelAddress Vma { get; init; }
    public KernelAddress Start { get; init; }
    public KernelAddress End { get; init; }
    public ulong Size => End - Start;
    /// <summary>vm_flags.</summary>
    public ulong Flags { get; init; }
    /// <summary>vm_flags decoded (READ WRITE EXEC SHARED MAYREAD ... as crash's vm -f names them).</summary>
    public IReadOnlyList<string> FlagNames { get; init; } = Array.Empty<string>();
    /// <summary>/proc/PID/maps permissions: r, w, x and s (shared) or p (private).</summary>
    public string Permissions { get; init; } = "";
    /// <summary>The mapped file's full path, or empty for anonymous memory.</summary>
    public string File { get; init; } = "";
    /// <summary>Offset into the file in bytes (vm_pgoff × page size).</summary>
    public ulong Offset { get; init; }
    /// <summary>The address space this area belongs to (mm->pgd) for Convert-CrashAddress.</summary>
    public KernelAddress Pgd { get; init; }

    public override string ToString() => $"{Vma:x16} {Start,12:x} {End,12:x} {Flags,8:x} {File}";
}
