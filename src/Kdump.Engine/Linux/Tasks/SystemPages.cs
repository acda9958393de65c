using Kdump.Engine.Program;

namespace Kdump.Engine.Linux.Tasks;

/// <summary>
/// The system's page counts as crash uses them: %MEM divides by the spanned pages of all memory nodes
/// (pglist_data.node_spanned_pages over node_data[] or contig_page_data); sys's MEMORY is the nodes' present pages.
/// Both fall back to totalram_pages.
/// </summary>
public static class SystemPages
{
    public const int MaxNodes = 1024;

    /// <summary>Spanned pages of all nodes (crash's divisor for %MEM).</summary>
    public static ulong Spanned(KernelProgram p, List<string>? warnings = null) => Nodes(p, "node_spanned_pages", warnings);

    /// <summary>Present pages of all nodes (crash's MEMORY).</summary>
    public static ulong Present(KernelProgram p, List<string>? warnings = null) => Nodes(p, "node_present_pages", warnings);

    private static ulong Nodes(KernelProgram p, string member, List<string>? warnings)
    {
        try
        {
            var pg = p.TryFindType("struct pglist_data");
            if (pg is not null)
            {
                ulong present = KernelObject.MemberOffset(pg, member);
                if (p.FindSymbol("node_data") is { } nd)
                {
                    int n = p.FindSymbol("nr_node_ids") is { } nr ? unchecked((int)p.ReadU32(nr.Address)) : 1;
                    if (n <= 0 || n > MaxNodes) n = 1;
                    ulong sum = 0;
                    for (int i = 0; i < n; i++)
                    {
                        ulong node = p.ReadU64(nd.Address + (ulong)i * 8);
                        if (node != 0) sum += p.ReadU64(node + present);
                    }
                    if (sum != 0) return sum;
                }
                else if (p.FindSymbol("contig_page_data") is { } cp)
                {
                    ulong v = p.ReadU64(cp.Address + present);
                    if (v != 0) return v;
                }
            }
        }
        catch (KdumpException ex) { warnings?.Add($"Cannot read the memory nodes' page counts: {ex.Message}"); }
        return TotalRamPages(p);
    }

    /// <summary>totalram_pages (an atomic_long_t since 5.0, an unsigned long before), or 0.</summary>
    public static ulong TotalRamPages(KernelProgram p)
    {
        try { return p.FindSymbol("_totalram_pages") is { } s ? p.ReadU64(s.Address) : p.FindSymbol("totalram_pages") is { } t ? p.ReadU64(t.Address) : 0; }
        catch (KdumpException) { return 0; }
    }
}
