using Kdump.Engine.Dump;

namespace Kdump.Engine.Translation;

/// <summary>
/// x86_64 4- and 5-level paging with the Linux kernel layout: KASLR (KERNELOFFSET), phys_base, the randomized
/// direct map (page_offset_base), vmalloc/vmemmap bases, the kernel text mapping at __START_KERNEL_map, 2 MiB and
/// 1 GiB pages, swap entries (L1TF-inverted offset) and PROT_NONE entries (inverted PFN).
/// </summary>
public sealed partial class X86_64Translator : IAddressTranslator
{
    public const ulong StartKernelMap = 0xffffffff80000000UL;
    public const ulong DefaultKernelImageSize = 1UL << 30;
    private const ulong PresentBit = 1UL << 0;
    private const ulong PseBit = 1UL << 7;
    private const ulong ProtNoneBit = 1UL << 8;
    private const ulong AccessedDirty = 0x60;
    private const ulong PhysMask = 0x000ffffffffff000UL;
    private const int SwapTypeBits = 5;
    private const int SwapOffsetFirstBit = 9;   // _PAGE_BIT_PROTNONE + 1
    private const int SwapOffsetShift = SwapOffsetFirstBit + SwapTypeBits;

    private readonly PhysicalReader _phys;
    private readonly ISymbolValues _symbols;
    private readonly ulong _pfnMask;
    private readonly Lazy<ulong> _pageOffsetBase, _vmallocBase, _vmemmapBase;
    private readonly TranslationCache _cache = new();

    public string Architecture => "x86_64";
    /// <summary>x86_64's base page: 4 KiB (PAGE_SHIFT 12), the granule of every page-table level.</summary>
    public const int BasePageShift = 12;
    public const int BasePageSize = 1 << BasePageShift;
    public int PageSize => BasePageSize;
    /// <summary>Kernel addresses are the upper canonical half (bit 63 set).</summary>
    public bool IsKernelAddress(ulong address) => (address >> 63) != 0;
    /// <summary>4 or 5.</summary>
    public int PagingLevels { get; }
    public ulong KernelOffset { get; }
    /// <summary>phys_base: physical address the kernel image was loaded at minus its link address (may be negative).</summary>
    public long PhysBase { get; }
    public ulong KernelImageSize { get; }
    public ulong KernelPageTableRoot { get; }
    /// <summary>Where the kernel page-table root came from ("SYMBOL(init_top_pgt)", "CR3 of CPU 0" ...).</summary>
    public string KernelPageTableRootSource { get; }
    /// <summary>SME/SEV encryption mask removed from page-table entries (NUMBER(sme_mask)).</summary>
    public ulong SmeMask { get; }
    /// <summary>How page_offset_base was found: "symbol", "page tables" or "default".</summary>
    public string PageOffsetBaseSource { get; private set; } = "not resolved";

    public ulong PageOffsetBase => _pageOffsetBase.Value;
    public ulong VmallocBase => _vmallocBase.Value;
    public ulong VmemmapBase => _vmemmapBase.Value;
    public ulong DefaultPageOffsetBase => PagingLevels == 5 ? 0xff11000000000000UL : 0xffff888000000000UL;
    public ulong DefaultVmallocBase => PagingLevels == 5 ? 0xffa0000000000000UL : 0xffffc90000000000UL;
    public ulong DefaultVmemmapBase => PagingLevels == 5 ? 0xffd4000000000000UL : 0xffffea0000000000UL;
    /// <summary>Size of the direct-map region reserved for physical memory (64 TiB with 4 levels, 32 PiB with 5).</summary>
    public ulong DirectMapSpan => PagingLevels == 5 ? 1UL << 55 : 1UL << 46;

    public X86_64Translator(PhysicalReader physical, X86_64TranslatorOptions options, ISymbolValues? symbols = null)
    {
        _phys = physical ?? throw new ArgumentNullException(nameof(physical));
        ArgumentNullException.ThrowIfNull(options);
        _symbols = symbols ?? DelegateSymbolValues.None;
        if (options.PagingLevels is not (4 or 5))
            throw new KdumpException("PagingLevelsInvalid", KdumpErrorKind.InvalidData, $"x86_64 paging has 4 or 5 levels, not {options.PagingLevels}.", options.PagingLevels);
        PagingLevels = options.PagingLevels;
        KernelOffset = options.KernelOffset;
        PhysBase = options.PhysBase;
        KernelImageSize = options.KernelImageSize is > 0 and <= (1UL << 31) ? options.KernelImageSize : DefaultKernelImageSize;
        SmeMask = options.SmeMask;
        _pfnMask = PhysMask & ~options.SmeMask;
        KernelPageTableRoot = options.KernelPageTableRoot & _pfnMask;
        KernelPageTableRootSource = options.KernelPageTableRootSource ?? (KernelPageTableRoot != 0 ? "given" : "unknown");
        _pageOffsetBase = new Lazy<ulong>(() => ResolveBase("page_offset_base", options.PageOffsetBase, DefaultPageOffsetBase, detect: true));
        _vmallocBase = new Lazy<ulong>(() => ResolveBase("vmalloc_base", options.VmallocBase, DefaultVmallocBase, detect: false));
        _vmemmapBase = new Lazy<ulong>(() => ResolveBase("vmemmap_base", options.VmemmapBase, DefaultVmemmapBase, detect: false));
    }

    /// <summary>Options from VMCOREINFO (and a CPU's CR3 when the dump has QEMU CPU notes).</summary>
    public static X86_64TranslatorOptions OptionsFrom(VmcoreInfo? info, IReadOnlyList<CpuState>? cpus = null)
    {
        var o = new X86_64TranslatorOptions();
        if (info is null)
        {
            if (cpus?.FirstOrDefault(c => c.Cr3 is > 0) is { } c0)
            { o.KernelPageTableRoot = c0.Cr3!.Value; o.KernelPageTableRootSource = $"CR3 of CPU {c0.Cpu}"; }
            return o;
        }
        if (info.TryGetNumber("pgtable_l5_enabled", out var l5) && l5 == 1) o.PagingLevels = 5;
        o.KernelOffset = info.KernelOffset ?? 0;
        if (info.TryGetNumber("phys_base", out var pb)) o.PhysBase = pb;
        if (info.TryGetNumber("KERNEL_IMAGE_SIZE", out var kis) && kis > 0) o.KernelImageSize = (ulong)kis;
        if (info.TryGetNumber("sme_mask", out var sme)) o.SmeMask = unchecked((ulong)sme);
        foreach (var name in new[] { "init_top_pgt", "swapper_pg_dir", "init_level4_pgt" })
        {
            if (info.TryGetSymbol(name, out var va) && va >= StartKernelMap)
            {
                o.KernelPageTableRoot = unchecked(va - StartKernelMap + (ulong)o.PhysBase);
                o.KernelPageTableRootSource = $"SYMBOL({name})";
                break;
            }
        }
        if (o.KernelPageTableRoot == 0 && cpus?.FirstOrDefault(c => c.Cr3 is > 0) is { } c)
        { o.KernelPageTableRoot = c.Cr3!.Value; o.KernelPageTableRootSource = $"CR3 of CPU {c.Cpu}"; }
        return o;
    }

    /// <summary>Forgets cached translations.</summary>
    public void ClearCache() => _cache.Clear();

    /// <summary>The physical address of a kernel-image (text/data/bss) address: va - __START_KERNEL_map + phys_base.</summary>
    public bool TryKernelImageToPhysical(ulong va, out ulong pa)
    {
        pa = 0;
        if (va < StartKernelMap || va - StartKernelMap >= KernelImageSize) return false;
        pa = unchecked(va - StartKernelMap + (ulong)PhysBase);
        return true;
    }

    public ulong PhysicalToKernelVirtual(ulong physical)
    {
        if (physical >= DirectMapSpan)
            throw new KdumpException("PhysicalAddressOutOfRange", KdumpErrorKind.InvalidArgument, $"Physical address 0x{physical:x} is beyond the direct map.", physical);
        return PageOffsetBase + physical;
    }

    private bool IsCanonical(ulong va)
    {
        int bits = PagingLevels == 5 ? 57 : 48;
        ulong top = va >> (bits - 1);
        return top == 0 || top == (ulong.MaxValue >> (bits - 1));
    }

    private ulong RootFor(AddressSpace space, ulong address)
    {
        if (space.Kind == AddressSpaceKind.UserVirtual)
        {
            if (space.PageTableRoot == 0)
                throw new AddressTranslationException("PageTableRootInvalid", KdumpErrorKind.InvalidArgument, "The user address space has no page-table root (pgd 0).", address, space);
            return space.PageTableRoot & _pfnMask;
        }
        if (KernelPageTableRoot == 0)
            throw new AddressTranslationException("PageTableRootUnknown", KdumpErrorKind.Unavailable,
                "The kernel page-table root is unknown (no SYMBOL(init_top_pgt)/swapper_pg_dir in VMCOREINFO and no CR3).", address, space);
        return KernelPageTableRoot;
    }
}

/// <summary>Inputs of the x86_64 translator (normally from <see cref="X86_64Translator.OptionsFrom"/>).</summary>
public sealed class X86_64TranslatorOptions
{
    public int PagingLevels { get; set; } = 4;
    public ulong KernelOffset { get; set; }
    public long PhysBase { get; set; }
    public ulong KernelImageSize { get; set; } = X86_64Translator.DefaultKernelImageSize;
    public ulong SmeMask { get; set; }
    /// <summary>Physical address of the kernel top-level page table (init_top_pgt or a CR3).</summary>
    public ulong KernelPageTableRoot { get; set; }
    public string? KernelPageTableRootSource { get; set; }
    /// <summary>Known values that override symbol lookup/detection (tests, user overrides).</summary>
    public ulong? PageOffsetBase { get; set; }
    public ulong? VmallocBase { get; set; }
    public ulong? VmemmapBase { get; set; }
}
