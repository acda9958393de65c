using Kdump.Engine.Dump;

namespace Kdump.Engine.Translation;

public sealed partial class X86_64Translator
{
    private static readonly string[] Names5 = { "PGD", "P4D", "PUD", "PMD", "PTE" };
    private static readonly string[] Names4 = { "PGD", "PUD", "PMD", "PTE" };
    private static readonly int[] Shifts5 = { 48, 39, 30, 21, BasePageShift };
    private static readonly int[] Shifts4 = { 39, 30, 21, BasePageShift };

    public AddressTranslation Translate(ulong address, AddressSpace space)
    {
        if (space.Kind == AddressSpaceKind.Physical)
            return new AddressTranslation { VirtualAddress = address, PhysicalAddress = address, AddressSpace = space, PageSize = (ulong)_phys.PageSize, Status = TranslationStatus.Mapped };
        if (!IsCanonical(address))
            throw new AddressTranslationException("AddressNotCanonical", KdumpErrorKind.InvalidArgument,
                $"0x{address:x} is not a canonical {PagingLevels}-level x86_64 address.", address, space);
        ulong root = RootFor(space, address);
        return Walk(address, space, root);
    }

    private AddressTranslation Walk(ulong address, AddressSpace space, ulong root)
    {
        var names = PagingLevels == 5 ? Names5 : Names4;
        var shifts = PagingLevels == 5 ? Shifts5 : Shifts4;
        var levels = new List<PageTableLevel>(names.Length);
        ulong table = root;
        for (int i = 0; i < names.Length; i++)
        {
            ulong entryAddr = table + ((address >> shifts[i]) & 511) * 8;
            var st = _phys.TryReadU64(entryAddr, out ulong entry);
            if (st != PageStatus.Present) throw TableFault(address, space, levels, names[i], entryAddr, st);
            levels.Add(new PageTableLevel(names[i], entryAddr, entry));
            string name = names[i];
            bool leafCapable = name is "PTE" or "PMD" or "PUD";
            bool isLeafLevel = name == "PTE" || (name is "PMD" or "PUD" && (entry & PseBit) != 0);
            ulong pageSize = 1UL << shifts[i];
            if ((entry & PresentBit) == 0)
            {
                if ((entry & ~AccessedDirty) == 0)
                    return Result(address, space, root, levels, TranslationStatus.NotMapped);
                if (leafCapable && isLeafLevel && (entry & ProtNoneBit) != 0)
                {
                    // PROT_NONE: present bit clear, _PAGE_PROTNONE set; the PFN is stored inverted (L1TF).
                    ulong pa = ((~entry) & _pfnMask & ~(pageSize - 1)) | (address & (pageSize - 1));
                    return Result(address, space, root, levels, TranslationStatus.ProtNone, pa, pageSize);
                }
                if (name == "PTE" || (name == "PMD" && (entry & PseBit) == 0))
                {
                    // A swap (or migration/hwpoison) entry: type in bits 59-63, offset inverted in bits 9-58.
                    uint type = (uint)(entry >> (64 - SwapTypeBits));
                    ulong offset = (~entry) << SwapTypeBits >> SwapOffsetShift;
                    return new AddressTranslation
                    {
                        VirtualAddress = address, AddressSpace = space, PageTableRoot = root, Levels = levels,
                        Status = TranslationStatus.Swapped, SwapType = type, SwapOffset = offset,
                        PageSize = name == "PTE" ? BasePageSize : pageSize,
                    };
                }
                return Result(address, space, root, levels, TranslationStatus.NotMapped);
            }
            if (isLeafLevel)
            {
                ulong pa = (entry & _pfnMask & ~(pageSize - 1)) | (address & (pageSize - 1));
                return Result(address, space, root, levels, TranslationStatus.Mapped, pa, pageSize);
            }
            table = entry & _pfnMask;
        }
        return Result(address, space, root, levels, TranslationStatus.NotMapped); // unreachable: PTE is a leaf
    }

    private static AddressTranslation Result(ulong va, AddressSpace space, ulong root, List<PageTableLevel> levels, TranslationStatus status, ulong? pa = null, ulong pageSize = 0)
        => new() { VirtualAddress = va, AddressSpace = space, PageTableRoot = root, Levels = levels, Status = status, PhysicalAddress = pa, PageSize = pa is null ? 0 : pageSize };

    private static AddressTranslationException TableFault(ulong va, AddressSpace space, List<PageTableLevel> levels, string level, ulong entryAddr, PageStatus st)
    {
        var (id, kind, why) = st switch
        {
            PageStatus.Excluded => ("PageExcluded", KdumpErrorKind.Unavailable, "was excluded from the dump"),
            PageStatus.NotInDump => ("PageTableOutsideDump", KdumpErrorKind.InvalidData, "is outside the memory the dump describes"),
            PageStatus.Lost => ("PageTableLost", KdumpErrorKind.Unavailable, "was lost (the dump is incomplete)"),
            PageStatus.Corrupt => ("PageTableCorrupt", KdumpErrorKind.InvalidData, "is corrupt in the dump"),
            _ => ("PageTableUnreadable", KdumpErrorKind.ReadError, "could not be read"),
        };
        return new AddressTranslationException(id, kind,
            $"Cannot translate {space} address 0x{va:x}: the {level} table page at physical 0x{entryAddr & ~(ulong)(BasePageSize - 1):x} {why}.", va, space, levels.ToArray());
    }

    public bool TryToPhysical(ulong address, AddressSpace space, out ulong physical)
    {
        physical = 0;
        if (space.Kind == AddressSpaceKind.Physical) { physical = address; return true; }
        if (space.Kind == AddressSpaceKind.KernelVirtual && TryLinear(address, out physical)) return true;
        if (!IsCanonical(address)) return false;
        ulong root;
        if (space.Kind == AddressSpaceKind.UserVirtual) { if (space.PageTableRoot == 0) return false; root = space.PageTableRoot & _pfnMask; }
        else { if (KernelPageTableRoot == 0) return false; root = KernelPageTableRoot; }
        if (_cache.TryGet(root, address, out physical)) return true;
        var t = Walk(address, space, root);
        if (t.Status != TranslationStatus.Mapped || t.PhysicalAddress is not { } pa) return false;
        _cache.Add(root, address, pa, t.PageSize);
        physical = pa;
        return true;
    }

    public ulong ToPhysical(ulong address, AddressSpace space)
    {
        if (TryToPhysical(address, space, out var pa)) return pa;
        var t = Translate(address, space); // throws for unreadable tables, non-canonical addresses, unknown root
        string what = t.Status switch
        {
            TranslationStatus.Swapped => $"the page is swapped out (swap type {t.SwapType}, offset 0x{t.SwapOffset:x})",
            TranslationStatus.ProtNone => "the page is mapped PROT_NONE",
            _ => "no page is mapped there",
        };
        throw new AddressTranslationException(t.Status == TranslationStatus.Swapped ? "PageSwappedOut" : "AddressNotMapped",
            KdumpErrorKind.Unavailable, $"Cannot translate {space} address 0x{address:x}: {what}.", address, space, t.Levels);
    }

    /// <summary>Kernel text mapping and direct map are linear: no walk needed.</summary>
    private bool TryLinear(ulong va, out ulong pa)
    {
        if (TryKernelImageToPhysical(va, out pa)) return true;
        ulong pob = PageOffsetBase;
        if (va >= pob && va - pob < DirectMapSpan)
        {
            ulong p = va - pob;
            if (_phys.Memory.MaxPfn == 0 || (p / (ulong)_phys.PageSize) < _phys.Memory.MaxPfn) { pa = p; return true; }
        }
        pa = 0;
        return false;
    }

    private ulong ResolveBase(string symbol, ulong? given, ulong fallback, bool detect)
    {
        if (given is { } g) { if (symbol == "page_offset_base") PageOffsetBaseSource = "given"; return g; }
        if (_symbols.TryGetSymbolAddress(symbol, out var va) && TryKernelImageToPhysical(va, out var pa)
            && _phys.TryReadU64(pa, out var value) == PageStatus.Present && IsPlausibleBase(value))
        {
            if (symbol == "page_offset_base") PageOffsetBaseSource = "symbol";
            return value;
        }
        if (detect && DetectDirectMap() is { } found) { PageOffsetBaseSource = "page tables"; return found; }
        if (symbol == "page_offset_base") PageOffsetBaseSource = "default";
        return fallback;
    }

    private bool IsPlausibleBase(ulong v) => (v & ((1UL << 30) - 1)) == 0 && IsCanonical(v) && v >= (PagingLevels == 5 ? 0xff00000000000000UL : 0xffff800000000000UL);

    /// <summary>
    /// Finds the direct map by walking the kernel page tables: KASLR puts it first in the randomized region, on a
    /// 1 GiB boundary, and it maps physical address 0. Bounded: at most 512×512 entries.
    /// </summary>
    private ulong? DetectDirectMap()
    {
        if (KernelPageTableRoot == 0) return null;
        var shifts = PagingLevels == 5 ? Shifts5 : Shifts4;
        ulong end = PagingLevels == 5 ? 0xffd4000000000000UL : 0xffffea0000000000UL;
        ulong va = DefaultPageOffsetBase;
        for (int steps = 0; steps < 1 << 16 && va < end; steps++)
        {
            AddressTranslation t;
            try { t = Walk(va, AddressSpace.KernelVirtual, KernelPageTableRoot); }
            catch (AddressTranslationException) { return null; }
            if (t.Status == TranslationStatus.Mapped)
                return t.PhysicalAddress == 0 ? va : null;
            // skip the whole span of the level whose entry was empty, at least 1 GiB (KASLR granularity)
            int shift = Math.Max(shifts[Math.Min(t.Levels.Count - 1, shifts.Length - 1)], 30);
            ulong next = (va & ~((1UL << shift) - 1)) + (1UL << shift);
            if (next <= va) return null;
            va = next;
        }
        return null;
    }
}

/// <summary>A bounded cache of recent virtual-page → physical-page translations (per page-table root), in x86_64 base pages.</summary>
internal sealed class TranslationCache
{
    private const int Max = 8192;
    private const int Shift = X86_64Translator.BasePageShift;
    private const ulong OffsetMask = (1UL << Shift) - 1;
    private readonly Dictionary<(ulong Root, ulong Page), ulong> _map = new();
    private readonly object _lock = new();

    public bool TryGet(ulong root, ulong va, out ulong pa)
    {
        lock (_lock)
        {
            if (_map.TryGetValue((root, va >> Shift), out var p)) { pa = p + (va & OffsetMask); return true; }
        }
        pa = 0;
        return false;
    }

    public void Clear() { lock (_lock) _map.Clear(); }

    public void Add(ulong root, ulong va, ulong pa, ulong pageSize)
    {
        lock (_lock)
        {
            if (_map.Count >= Max) _map.Clear();
            _map[(root, va >> Shift)] = pa & ~OffsetMask;
        }
    }
}
