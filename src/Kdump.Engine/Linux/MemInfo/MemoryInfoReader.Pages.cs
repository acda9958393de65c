using System.Buffers.Binary;
using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.MemInfo;

public sealed partial class MemoryInfoReader
{
    private const ulong SectionHasMemMap = 1UL << 1;
    private const ulong SectionMapMask = ~0x3fUL;
    private const int PagesPerChunk = 64;

    /// <summary>
    /// crash's SHARED: every page frame of every memory node (node_start_pfn .. + node_spanned_pages, sections with a
    /// mem_map only) whose page is not PG_reserved and whose _refcount is above 1. Layout from VMCOREINFO (mem_section,
    /// SECTION_SIZE_BITS, SIZE(page), OFFSET(page.flags / page._refcount)); PG_reserved from the type finder.
    /// </summary>
    private ulong SharedPages()
    {
        var vi = _p.VmcoreInfo ?? throw new KdumpException("VmcoreInfoMissing", KdumpErrorKind.NotFound, "The dump has no VMCOREINFO, which describes the page array.", null);
        if (!vi.TryGetSymbol("mem_section", out var roots) || !vi.TryGetSize("mem_section", out var secSize) || !vi.TryGetLength("mem_section", out var nrRoots)
            || !vi.TryGetNumber("SECTION_SIZE_BITS", out var sectionBits) || !vi.TryGetSize("page", out var pageSize)
            || !vi.TryGetOffset("page.flags", out var flagsOff) || !vi.TryGetOffset("page._refcount", out var refOff))
            throw new KdumpException("PageLayoutUnknown", KdumpErrorKind.NotFound, "VMCOREINFO does not describe the SPARSEMEM page array (mem_section, SIZE(page), OFFSET(page._refcount)).", "mem_section");
        if (secSize is 0 or > 256 || pageSize is < 32 or > 512 || refOff + 4 > pageSize || flagsOff + 8 > pageSize || sectionBits is < 12 or > 40)
            throw new KdumpException("PageLayoutInvalid", KdumpErrorKind.InvalidData, $"VMCOREINFO's page layout is implausible (SIZE(mem_section) {secSize}, SIZE(page) {pageSize}, SECTION_SIZE_BITS {sectionBits}).", "mem_section");
        int pageShift = System.Numerics.BitOperations.Log2((uint)PageSize);
        int pfnSectionShift = (int)sectionBits - pageShift;
        ulong sectionsPerRoot = (ulong)PageSize / secSize;
        ulong reserved = _p.TryFindEnumerator("PG_reserved", out var r) && r is >= 0 and < 64 ? 1UL << (int)r : 1UL << 1;

        ulong shared = 0, scanned = 0, unreadable = 0;
        var buf = new byte[PagesPerChunk * (int)pageSize];
        var sectionMaps = new Dictionary<ulong, ulong>();
        foreach (var (start, count) in NodeRanges())
        {
            ulong end = start + count;
            for (ulong pfn = start; pfn < end && scanned < MaxScannedPages;)
            {
                _cancel.ThrowIfCancellationRequested();
                ulong nr = pfn >> pfnSectionShift;
                ulong sectionEnd = (nr + 1) << pfnSectionShift;
                if (!sectionMaps.TryGetValue(nr, out var map))
                {
                    map = 0;
                    if (nr / sectionsPerRoot < nrRoots)
                    {
                        ulong root = _p.ReadU64(roots + nr / sectionsPerRoot * 8);
                        if (root != 0)
                        {
                            ulong raw = _p.ReadU64(root + nr % sectionsPerRoot * secSize);
                            if ((raw & SectionHasMemMap) != 0) map = raw & SectionMapMask;
                        }
                    }
                    sectionMaps[nr] = map;
                }
                if (map == 0) { pfn = sectionEnd; continue; }
                int n = (int)Math.Min((ulong)PagesPerChunk, Math.Min(end, sectionEnd) - pfn);
                var span = buf.AsSpan(0, n * (int)pageSize);
                try
                {
                    _p.ReadKernel(unchecked(map + pfn * pageSize), span);
                    for (int i = 0; i < n; i++)
                    {
                        var page = span.Slice(i * (int)pageSize, (int)pageSize);
                        ulong flags = BinaryPrimitives.ReadUInt64LittleEndian(page[(int)flagsOff..]);
                        int refcount = BinaryPrimitives.ReadInt32LittleEndian(page[(int)refOff..]);
                        if ((flags & reserved) == 0 && refcount > 1) shared++;
                    }
                }
                catch (KdumpException) { unreadable += (ulong)n; }
                scanned += (ulong)n;
                pfn += (ulong)n;
            }
        }
        if (unreadable > 0) _warn("PageArrayIncomplete", $"SHARED: {unreadable} of {scanned} page structs are not in the dump; SHARED counts the readable ones.");
        if (scanned >= MaxScannedPages) _warn("PageArrayTooLarge", $"SHARED: only the first {MaxScannedPages} page frames were scanned.");
        return shared;
    }

    /// <summary>(node_start_pfn, node_spanned_pages) of every memory node.</summary>
    private List<(ulong Start, ulong Count)> NodeRanges()
    {
        var vi = _p.VmcoreInfo!;
        var list = new List<(ulong, ulong)>();
        if (!vi.TryGetOffset("pglist_data.node_start_pfn", out var startOff) || !vi.TryGetOffset("pglist_data.node_spanned_pages", out var spanOff))
        {
            var pg = _p.FindType("struct pglist_data");
            startOff = KernelObject.MemberOffset(pg, "node_start_pfn");
            spanOff = KernelObject.MemberOffset(pg, "node_spanned_pages");
        }
        if (_p.FindSymbol("node_data") is { } nd)
        {
            int n = _p.FindSymbol("nr_node_ids") is { } nr ? unchecked((int)_p.ReadU32(nr.Address)) : 1;
            if (n <= 0 || n > MaxNodes) n = 1;
            for (int i = 0; i < n; i++)
            {
                ulong node = _p.ReadU64(nd.Address + (ulong)i * 8);
                if (node != 0) list.Add((_p.ReadU64(node + startOff), _p.ReadU64(node + spanOff)));
            }
        }
        else if (_p.FindSymbol("contig_page_data") is { } cp)
            list.Add((_p.ReadU64(cp.Address + startOff), _p.ReadU64(cp.Address + spanOff)));
        else throw new KdumpException("MemoryNodesNotFound", KdumpErrorKind.NotFound, "Neither node_data nor contig_page_data is known.", "node_data");
        return list;
    }
}
