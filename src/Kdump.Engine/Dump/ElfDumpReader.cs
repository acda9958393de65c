namespace Kdump.Engine.Dump;

/// <summary>
/// ELF64 vmcores: /proc/vmcore copies, makedumpfile -E (sparse PT_LOADs: the part past p_filesz is Excluded;
/// e_flags bit 0 = incomplete), QEMU dump-guest-memory (paging off: p_vaddr = p_paddr; paging on: PN_XNUM phdrs
/// with the count in section 0's sh_info). Memory is translated by p_paddr through a sorted, de-duplicated range index.
/// </summary>
internal sealed class ElfDumpReader : IDumpReader
{
    private const ushort PnXnum = 0xffff;
    private const uint PtLoad = 1, PtNote = 4;
    private const uint ElfIncompleteFlag = 0x1;

    /// <summary>A physical range [Start, End): bytes [Start, Start+FileSize) are at FileOffset; the rest is excluded.</summary>
    internal readonly record struct Range(ulong Start, ulong End, long FileOffset, ulong FileSize);

    private readonly IByteSource _src;
    private readonly Range[] _ranges;
    private readonly ulong[] _starts;
    private readonly bool _ownsSource;

    public DumpHeaderInfo Info { get; } = new();
    public int PageSize { get; }
    public ulong MaxPfn { get; }
    public bool IsCompressed => false;
    internal IReadOnlyList<Range> Ranges => _ranges;
    internal long SourceLength => _src.Length;

    public static bool Sniff(ReadOnlySpan<byte> head) => head.Length >= 4 && head[0] == 0x7f && head[1] == (byte)'E' && head[2] == (byte)'L' && head[3] == (byte)'F';

    public ElfDumpReader(IByteSource src, DumpLimits limits, EngineHost host, bool force, bool ownsSource = true)
    {
        _src = src;
        _ownsSource = ownsSource;
        string path = src.Path;
        Span<byte> eh = stackalloc byte[64];
        src.ReadExactly(0, eh, "ELF header");
        if (eh[4] != 2)
            throw DumpErrors.FormatUnsupported(path, eh[4] == 1 ? "32-bit ELF cores are not supported (only ELF64 vmcores)" : $"ELF class {eh[4]} is invalid");
        if (eh[5] is not (1 or 2)) throw DumpErrors.Corrupt(path, "e_ident[EI_DATA]", $"is {eh[5]} (neither little- nor big-endian)");
        bool be = eh[5] == 2;
        ushort type = Bin.U16(eh, 16, be), machine = Bin.U16(eh, 18, be);
        if (type != 4)
            throw DumpErrors.FormatUnknown(path, $"it is an ELF {(type switch { 2 => "executable (a vmlinux?)", 3 => "shared object", 1 => "relocatable object", _ => $"file of type {type}" })}, not an ELF core dump");
        uint flags = Bin.U32(eh, 48, be);
        ulong phoff = Bin.U64(eh, 32, be), shoff = Bin.U64(eh, 40, be);
        ushort phentsize = Bin.U16(eh, 54, be), shentsize = Bin.U16(eh, 58, be);
        long phnum = Bin.U16(eh, 56, be);
        Info.Format = Info.PayloadFormat = DumpFormat.Elf;
        Info.BigEndian = be;
        Info.Is64Bit = true;
        Info.Architecture = MachineName(machine);
        Info.Incomplete = (flags & ElfIncompleteFlag) != 0;
        Info.Compression = DumpCompression.None;
        if (phentsize != 56) throw DumpErrors.Corrupt(path, "e_phentsize", $"is {phentsize}, expected 56 for ELF64");
        if (phnum == PnXnum)
        {
            if (shoff == 0 || shoff > (ulong)src.Length) throw DumpErrors.Corrupt(path, "e_shoff", $"is 0x{shoff:x} but e_phnum is PN_XNUM (0xffff), so section 0 must hold the real count");
            if (shentsize < 64) throw DumpErrors.Corrupt(path, "e_shentsize", $"is {shentsize}, expected 64");
            Span<byte> sh = stackalloc byte[64];
            src.ReadExactly((long)shoff, sh, "section header 0");
            phnum = Bin.U32(sh, 44, be);
            Info.Explanation.Add($"e_phnum is PN_XNUM; section 0 sh_info gives {phnum} program headers");
        }
        if (phnum > limits.MaxElfSegments) throw DumpErrors.Limit(path, "e_phnum", $"declares {phnum} program headers (limit {limits.MaxElfSegments})");
        if (phoff > (ulong)src.Length || (ulong)phnum * 56 > (ulong)src.Length - phoff)
            throw DumpErrors.Corrupt(path, "e_phoff", $"(0x{phoff:x}) with e_phnum {phnum} puts the program headers past the end of the {src.Length}-byte file");
        var ph = new byte[phnum * 56];
        src.ReadExactly((long)phoff, ph, "program headers");

        var loads = new List<Range>((int)Math.Min(phnum, 1 << 20));
        var noteArea = new MemoryStream();
        bool sparse = false, vaddrIsPaddr = true, truncated = false;
        string? truncatedAt = null;
        ulong firstVaddr = 0;
        for (int i = 0; i < phnum; i++)
        {
            var p = ph.AsSpan(i * 56, 56);
            uint ptype = Bin.U32(p, 0, be);
            ulong off = Bin.U64(p, 8, be), vaddr = Bin.U64(p, 16, be), paddr = Bin.U64(p, 24, be), filesz = Bin.U64(p, 32, be), memsz = Bin.U64(p, 40, be);
            if (ptype == PtNote)
            {
                if (filesz > (ulong)limits.MaxNoteBytes || noteArea.Length + (long)filesz > limits.MaxNoteBytes)
                    throw DumpErrors.Limit(path, $"program header {i} p_filesz", $"makes the notes larger than {limits.MaxNoteBytes} bytes");
                if (off > (ulong)src.Length || filesz > (ulong)src.Length - off)
                    throw DumpErrors.Corrupt(path, $"program header {i} (PT_NOTE) p_offset", $"(0x{off:x}) + p_filesz ({filesz}) is past the end of the {src.Length}-byte file");
                var buf = src.ReadArray((long)off, (int)filesz, $"PT_NOTE segment {i}");
                noteArea.Write(buf);
            }
            else if (ptype == PtLoad)
            {
                if (memsz == 0) continue;
                if (filesz > memsz) throw DumpErrors.Corrupt(path, $"program header {i} p_filesz", $"({filesz}) is larger than p_memsz ({memsz})");
                if (paddr + memsz < paddr) throw DumpErrors.Corrupt(path, $"program header {i} p_paddr", $"(0x{paddr:x}) + p_memsz wraps around");
                if (off > (ulong)src.Length || filesz > (ulong)src.Length - off)
                {
                    // A copy cut short: the segment's data past the end of the file reads as lost pages.
                    if (!truncated) truncatedAt = $"program header {i} (PT_LOAD) puts p_filesz {filesz} bytes at p_offset 0x{off:x}";
                    truncated = true;
                }
                if (filesz < memsz) sparse = true;
                if (loads.Count == 0) firstVaddr = vaddr;
                if (vaddr != paddr) vaddrIsPaddr = false;
                loads.Add(new Range(paddr, paddr + memsz, (long)off, filesz));
            }
        }
        if (truncated)
        {
            Info.Incomplete = true;
            Info.Problems.Add($"truncated: {truncatedAt}, past the end of the {src.Length}-byte file");
            host.Warning($"'{path}' is truncated: {truncatedAt}, past the end of the {src.Length}-byte file; the pages past the end read as lost (PageLost) and answers that need them are partial.");
        }
        _ranges = BuildIndex(loads);
        _starts = _ranges.Select(r => r.Start).ToArray();
        Info.Explanation.Add($"ELF64 {(be ? "big" : "little")}-endian core, machine {Info.Architecture}, {phnum} program headers, {loads.Count} PT_LOAD ({_ranges.Length} distinct physical ranges after de-duplication)");

        var notes = ElfNotes.Parse(noteArea.ToArray(), be, limits.MaxNotes, path);
        ElfNotes.Interpret(notes, Info, "ELF note", limits.MaxVmcoreInfoBytes);

        PageSize = Info.VmcoreInfo?.PageSize is int ps && ps is >= 512 and <= 1 << 20 && (ps & (ps - 1)) == 0 ? ps : 4096;
        ulong maxAddr = _ranges.Length == 0 ? 0 : _ranges.Max(r => r.End);
        MaxPfn = (maxAddr + (ulong)PageSize - 1) / (ulong)PageSize;
        CountPages(truncated);

        bool qemu = Info.Notes.Any(n => n.Name == "QEMU");
        if (sparse || Info.Incomplete && !truncated)
        {
            Info.Producer = "makedumpfile";
            Info.ProducerHints.Add("makedumpfile -E (sparse PT_LOADs: filtered pages excluded)");
            if (qemu) Info.ProducerHints.Add("input was a QEMU dump-guest-memory ELF (QEMU CPU state notes)");
        }
        else if (qemu) { Info.Producer = "QEMU dump-guest-memory"; Info.ProducerHints.Add(vaddrIsPaddr ? "QEMU ELF, paging off (p_vaddr = p_paddr)" : "QEMU ELF, paging on (kernel virtual p_vaddr)"); }
        else if (Info.VmcoreInfo is not null) { Info.Producer = "kernel"; Info.ProducerHints.Add("/proc/vmcore copy (kernel-built ELF headers)"); }
        if (!qemu && loads.Count > 0 && firstVaddr >= 0xffffffff80000000UL && Info.Architecture == "x86_64")
            Info.ProducerHints.Add($"first PT_LOAD is the kernel text at 0x{firstVaddr:x}");
        if (Info.VmcoreInfo is { } vi && vi.TryGetNumber("phys_base", out var pb)) Info.PhysBase = pb;
        if (Info.Cpus.Count == 1) Info.PanicCpu = 0;
    }

    private void CountPages(bool truncated)
    {
        ulong ps = (ulong)PageSize, total = 0, dumped = 0, lost = 0;
        foreach (var r in _ranges)
        {
            ulong first = r.Start / ps, last = (r.End + ps - 1) / ps;
            total += last - first;
            ulong dataEnd = r.Start + r.FileSize;
            if (r.FileSize > 0)
            {
                ulong inFile = r.FileOffset + (long)r.FileSize <= _src.Length ? r.FileSize : (ulong)Math.Max(0, _src.Length - r.FileOffset);
                ulong fileEnd = r.Start + inFile;
                ulong d = (fileEnd + ps - 1) / ps - first;
                dumped += Math.Min(d, last - first);
                if (inFile < r.FileSize) lost += (dataEnd + ps - 1) / ps - (fileEnd + ps - 1) / ps;
            }
        }
        Info.PhysicalPages = total;
        Info.DumpedPages = dumped;
        Info.ExcludedPages = total - dumped - lost;
        Info.LostPages = truncated || Info.Incomplete ? lost : 0;
    }

    /// <summary>Sorts ranges by physical address and trims overlaps (the kernel text segment repeats direct-map memory).</summary>
    internal static Range[] BuildIndex(List<Range> loads)
    {
        // Segments with file data win over sparse ones at the same address: sort by start, data-backed first.
        var sorted = loads.OrderBy(r => r.Start).ThenByDescending(r => r.FileSize).ToList();
        var result = new List<Range>(sorted.Count);
        ulong covered = 0;
        bool any = false;
        foreach (var r in sorted)
        {
            if (any && r.End <= covered) continue;
            var cur = r;
            if (any && cur.Start < covered)
            {
                ulong cut = covered - cur.Start;
                ulong fileCut = Math.Min(cut, cur.FileSize);
                cur = new Range(covered, cur.End, cur.FileOffset + (long)fileCut, cur.FileSize - fileCut);
            }
            result.Add(cur);
            covered = cur.End;
            any = true;
        }
        return result.ToArray();
    }

    public PageStatus GetPageStatus(ulong pfn)
    {
        ulong ps = (ulong)PageSize, addr = pfn * ps;
        if (pfn >= MaxPfn) return PageStatus.NotInDump;
        PageStatus best = PageStatus.NotInDump;
        for (int i = FindFirst(addr); i >= 0 && i < _ranges.Length && _ranges[i].Start < addr + ps; i++)
        {
            var r = _ranges[i];
            if (r.End <= addr) continue;
            ulong lo = Math.Max(r.Start, addr);
            ulong dataEnd = r.Start + r.FileSize;
            if (lo < dataEnd)
                return (long)(r.FileOffset + (long)(lo - r.Start)) >= _src.Length ? PageStatus.Lost : PageStatus.Present;
            best = PageStatus.Excluded;
        }
        return best;
    }

    public PageStatus ReadPage(ulong pfn, Span<byte> destination) => ReadPage(pfn, destination, out _);

    public PageStatus ReadPage(ulong pfn, Span<byte> destination, out string? detail)
    {
        detail = null;
        ulong ps = (ulong)PageSize, addr = pfn * ps;
        var dest = destination[..PageSize];
        if (pfn >= MaxPfn) return PageStatus.NotInDump;
        var status = PageStatus.NotInDump;
        bool anyData = false, zeroed = false;
        for (int i = FindFirst(addr); i >= 0 && i < _ranges.Length && _ranges[i].Start < addr + ps; i++)
        {
            var r = _ranges[i];
            if (r.End <= addr) continue;
            ulong lo = Math.Max(r.Start, addr), hi = Math.Min(r.End, addr + ps);
            ulong dataEnd = Math.Min(hi, r.Start + r.FileSize);
            if (!zeroed) { dest.Clear(); zeroed = true; }
            if (lo < dataEnd)
            {
                long fo = r.FileOffset + (long)(lo - r.Start);
                int want = (int)(dataEnd - lo);
                int got = _src.Read(fo, dest.Slice((int)(lo - addr), want));
                if (got < want)
                {
                    if (!anyData) { detail = $"'{_src.Path}' ends at 0x{_src.Length:x}, before file offset 0x{fo + got:x}"; status = PageStatus.Lost; }
                    continue;
                }
                anyData = true;
                status = PageStatus.Present;
            }
            else if (status == PageStatus.NotInDump) status = PageStatus.Excluded;
        }
        return anyData ? PageStatus.Present : status;
    }

    /// <summary>Index of the last range starting at or before addr (or the first range when none does).</summary>
    private int FindFirst(ulong addr)
    {
        int i = Array.BinarySearch(_starts, addr);
        if (i < 0) i = ~i - 1;
        return Math.Max(i, 0);
    }

    internal static string MachineName(ushort m) => m switch
    {
        62 => "x86_64",
        183 => "aarch64",
        3 => "i386",
        40 => "arm",
        21 => "ppc64",
        22 => "s390x",
        243 => "riscv64",
        258 => "loongarch64",
        8 => "mips",
        _ => $"elf-machine-{m}",
    };

    public void Dispose() { if (_ownsSource) _src.Dispose(); }
}
