using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Translation;

namespace Kdump.Engine.Linux.Mm;

/// <summary>
/// crash's vtop and ptov over a program, through its architecture's translator: every page-table level is reported;
/// swapped-out and PROT_NONE pages are results, not errors. With a task, user addresses go through its mm->pgd and the
/// result names the memory area that holds the address; a swapped page names its swap device. One instance serves a
/// batch of addresses (it remembers each task's areas and the swap table); it is not shared between threads.
/// </summary>
public sealed class AddressLookup
{
    private readonly KernelProgram _p;
    private readonly Action<string> _warning, _verbose;
    private readonly CancellationToken _cancellation;
    private readonly Dictionary<ulong, IReadOnlyList<CrashVmArea>?> _areas = new();
    private Dictionary<int, string>? _swapDevices;

    /// <param name="warning">Receives what could not be added to results (areas or swap devices unreadable).</param>
    /// <param name="verbose">Receives problems with single swap areas.</param>
    public AddressLookup(KernelProgram program, Action<string>? warning = null, Action<string>? verbose = null, CancellationToken cancellation = default)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _warning = warning ?? (_ => { });
        _verbose = verbose ?? (_ => { });
        _cancellation = cancellation;
    }

    /// <summary>ptov: the direct-map kernel virtual address of a physical address.</summary>
    public AddressTranslation PhysicalToVirtual(ulong physical)
    {
        // Mapped only when the page is RAM the dump describes (present, or excluded by the dump level);
        // beyond physical memory or in a hole the direct map holds nothing.
        bool ram = _p.Memory.GetPageStatus(physical / (ulong)_p.Memory.PageSize) != PageStatus.NotInDump;
        return new AddressTranslation
        {
            VirtualAddress = _p.Translator.PhysicalToKernelVirtual(physical), PhysicalAddress = physical,
            AddressSpace = AddressSpace.KernelVirtual, PageSize = ram ? (ulong)_p.PageSize : 0,
            Status = ram ? TranslationStatus.Mapped : TranslationStatus.NotMapped,
        };
    }

    /// <summary>A user address space from a page-table root given as a kernel virtual address (mm->pgd) or a physical address.</summary>
    public AddressSpace UserSpace(ulong pgd)
        => AddressSpace.UserVirtual(_p.Translator.IsKernelAddress(pgd) ? _p.Translator.ToPhysical(pgd, AddressSpace.KernelVirtual) : pgd);

    /// <summary>The user address space of a task (its mm->pgd); TaskHasNoMm for a kernel thread.</summary>
    public AddressSpace UserSpaceOf(CrashProcess task)
    {
        ArgumentNullException.ThrowIfNull(task);
        if (task.Mm == 0)
            throw new KdumpException("TaskHasNoMm", KdumpErrorKind.InvalidArgument,
                $"Task {task.Pid} (0x{task.Task:x}, {task.DisplayCommand}) is a kernel thread with no mm: it has no user address space. Kernel addresses need no -Pid.", task.Task);
        ulong pgd = _p.Object(task.Mm, "struct mm_struct")["pgd"].ReadPointer();
        return AddressSpace.UserVirtual(_p.Translator.ToPhysical(pgd, AddressSpace.KernelVirtual));
    }

    /// <summary>
    /// vtop: translates <paramref name="address"/> in <paramref name="space"/>. With a <paramref name="task"/>, kernel
    /// addresses use the kernel's tables, and user results carry the task, its memory area and the swap device.
    /// </summary>
    public AddressTranslation Translate(ulong address, AddressSpace space, CrashProcess? task = null)
    {
        if (task is not null && _p.Translator.IsKernelAddress(address)) space = AddressSpace.KernelVirtual;
        var t = _p.Translator.Translate(address, space);
        bool user = space.Kind == AddressSpaceKind.UserVirtual;
        string? device = t.Status == TranslationStatus.Swapped && t.SwapType is { } st && user ? SwapDevice((int)st) : null;
        CrashVmArea? vma = task is not null && user ? AreaOf(task, address) : null;
        return device is null && task is null ? t : t.WithContext(task?.Pid, task?.Task, vma, device);
    }

    private CrashVmArea? AreaOf(CrashProcess task, ulong address)
    {
        if (!_areas.TryGetValue(task.Task, out var list))
        {
            try { list = TaskVm.Read(_p, task, _cancellation).Areas; }
            catch (KdumpException ex)
            {
                _warning($"The memory areas of task {task.Pid} cannot be read, so results carry no Vma: {ex.Message}");
                list = null;
            }
            _areas[task.Task] = list;
        }
        if (list is null) return null;
        foreach (var area in list) if (address >= area.Start && address < area.End) return area;
        return null;
    }

    private string? SwapDevice(int type)
    {
        if (_swapDevices is null)
        {
            _swapDevices = new Dictionary<int, string>();
            try
            {
                foreach (var s in new SwapReader(_p).Enumerate(ex => _verbose(ex.Message)))
                    _swapDevices[s.Index] = s.FileName;
            }
            catch (KdumpException ex)
            {
                _warning($"The swap areas cannot be read, so swapped pages carry no SwapDevice: {ex.Message}");
            }
        }
        return _swapDevices.TryGetValue(type, out var name) && name.Length > 0 ? name : null;
    }
}
