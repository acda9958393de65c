using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Mm;

/// <summary>
/// A task's memory areas: from the maple tree <c>mm->mm_mt</c> (Linux ≥ 6.1) or the sorted <c>mm->mmap</c> list
/// (vm_next) of older kernels, each with its file's full path resolved against the task's root.
/// </summary>
public static class TaskVm
{
    /// <summary>Upper bound on areas per mm (the kernel's default vm.max_map_count is 65530).</summary>
    public const int MaxAreas = 1 << 22;

    /// <summary>Reads a task's address space. Throws "TaskMemoryUnavailable" when the mm or its tree cannot be read.</summary>
    public static CrashVm Read(KernelProgram p, CrashProcess task, CancellationToken cancellation = default)
    {
        if (task.Mm == 0 || task.IsKernelThread && task.Mm == 0)
            return new CrashVm { Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Cpu = task.Cpu, Command = task.Command };
        var mmType = p.FindType("struct mm_struct");
        var vmaType = p.FindType("struct vm_area_struct");
        ulong vmStart = Off(vmaType, "vm_start"), vmEnd = Off(vmaType, "vm_end"), vmFlags = Off(vmaType, "vm_flags");
        ulong vmFile = Off(vmaType, "vm_file"), vmPgoff = Off(vmaType, "vm_pgoff");
        ulong pgd;
        var areas = new List<ulong>();
        try
        {
            pgd = p.ReadU64(task.Mm + Off(mmType, "pgd"));
            if (TryOff(mmType, "mm_mt") is { } mt)
            {
                foreach (var e in p.MapleTreeForEach(task.Mm + mt, MaxAreas))
                {
                    cancellation.ThrowIfCancellationRequested();
                    areas.Add(e.Value);
                }
            }
            else if (TryOff(mmType, "mmap") is { } mmap && TryOff(vmaType, "vm_next") is { } next)
            {
                var seen = new HashSet<ulong>();
                for (ulong v = p.ReadU64(task.Mm + mmap); v != 0; v = p.ReadU64(v + next))
                {
                    cancellation.ThrowIfCancellationRequested();
                    if (!seen.Add(v)) throw new KdumpException("ListCycle", KdumpErrorKind.InvalidData, $"The vma list of mm 0x{task.Mm:x} loops at 0x{v:x}.", task.Mm);
                    if (seen.Count > MaxAreas) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"mm 0x{task.Mm:x} has more than {MaxAreas} areas.", task.Mm);
                    areas.Add(v);
                }
            }
            else throw new KdumpException("MemberNotFound", KdumpErrorKind.NotSupported, "struct mm_struct has neither mm_mt nor mmap.", "mm_struct");
        }
        catch (KdumpException ex) when (ex.ErrorId is not "MemberNotFound")
        {
            throw new KdumpException("TaskMemoryUnavailable", KdumpErrorKind.Unavailable, $"The memory map of task {task.Pid} (0x{task.Task:x}, {task.Command}) cannot be read: {ex.Message}", task.Task, ex);
        }

        var resolver = new PathResolver(p);
        VfsPath root = default;
        try
        {
            ulong fs = p.ReadU64(task.Task + Off(p.FindType("struct task_struct"), "fs"));
            if (fs != 0) root = resolver.ReadPath(fs + resolver.Layout.FsRoot);
        }
        catch (KdumpException) { /* paths then run to the top of the mount tree */ }
        ulong page = (ulong)p.PageSize;
        var list = new List<CrashVmArea>(areas.Count);
        var fileOff = resolver.Layout.FilePath;
        foreach (var vma in areas)
        {
            try
            {
                ulong flags = p.ReadU64(vma + vmFlags), file = p.ReadU64(vma + vmFile);
                string path = "";
                if (file != 0)
                {
                    try { path = resolver.Resolve(resolver.ReadPath(file + fileOff), root); }
                    catch (KdumpException ex) { path = $"(unreadable: {ex.Message})"; }
                }
                list.Add(new CrashVmArea
                {
                    Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Command = task.Command, Vma = vma, Pgd = pgd,
                    Start = p.ReadU64(vma + vmStart), End = p.ReadU64(vma + vmEnd), Flags = flags,
                    FlagNames = VmFlags.Decode(flags, p.OsRelease), Permissions = VmFlags.Permissions(flags),
                    File = path, Offset = file != 0 ? p.ReadU64(vma + vmPgoff) * page : 0,
                });
            }
            catch (KdumpException ex)
            {
                throw new KdumpException("TaskMemoryUnavailable", KdumpErrorKind.Unavailable, $"Area 0x{vma:x} of task {task.Pid} ({task.Command}) cannot be read: {ex.Message}", task.Task, ex);
            }
        }
        return new CrashVm
        {
            Vmcore = task.Vmcore, Pid = task.Pid, Task = task.Task, Cpu = task.Cpu, Command = task.Command, Mm = task.Mm, Pgd = pgd,
            Rss = task.Rss, TotalVm = task.Vsz, Areas = list,
        };
    }

    private static ulong Off(Kdump.Engine.Types.KType t, string m) => KernelObject.MemberOffset(t, m);
    private static ulong? TryOff(Kdump.Engine.Types.KType t, string m)
    {
        try { return KernelObject.MemberOffset(t, m); } catch (KdumpException) { return null; }
    }
}
