using Kdump.Engine.Linux.Fs;
using Kdump.Engine.Model;
using Kdump.Engine.Program;
using Kdump.Engine.Types;

namespace Kdump.Engine.Linux.Swap;

/// <summary>
/// Swap areas of a dump (crash's swap): swap_info[0 .. nr_swapfiles-1], those with SWP_USED set, with their size, use,
/// priority and the swap file's path (d_path through <see cref="PathResolver"/>).
/// </summary>
public sealed class SwapReader
{
    /// <summary>MAX_SWAPFILES is at most 32 on every configuration.</summary>
    public const int MaxSwapFiles = 32;
    private const ulong S_IFMT = 0xf000, S_IFBLK = 0x6000;

    private readonly KernelProgram _p;
    private readonly KType _si;

    public SwapReader(KernelProgram program)
    {
        _p = program ?? throw new ArgumentNullException(nameof(program));
        _si = program.TryFindType("struct swap_info_struct")
            ?? throw new KdumpException("SwapTypesMissing", KdumpErrorKind.NotFound,
                $"The kernel's struct swap_info_struct is not known ({program.TypeSourceText}); swap areas cannot be read.", "struct swap_info_struct");
    }

    /// <summary>nr_swapfiles: the number of swap_info[] slots ever used.</summary>
    public int SwapFileCount()
    {
        uint n = _p.ReadU32(_p.GetSymbol("nr_swapfiles").Address);
        if (n > MaxSwapFiles) throw new KdumpException("SwapTableCorrupt", KdumpErrorKind.InvalidData, $"nr_swapfiles is {n} (MAX_SWAPFILES is at most {MaxSwapFiles}).", n);
        return (int)n;
    }

    /// <summary>swap_info[i] for i below nr_swapfiles (0 for an empty slot).</summary>
    public IReadOnlyList<ulong> SwapInfoAddresses()
    {
        int n = SwapFileCount();
        ulong arr = _p.GetSymbol("swap_info").Address;
        var list = new ulong[n];
        for (int i = 0; i < n; i++) list[i] = _p.ReadU64(arr + (ulong)i * 8);
        return list;
    }

    /// <summary>The swap areas in use. An unreadable one goes to <paramref name="onError"/>.</summary>
    public IEnumerable<CrashSwap> Enumerate(Action<KdumpException> onError)
    {
        var addrs = SwapInfoAddresses();
        long used = _p.TryFindEnumerator("SWP_USED", out var u) ? u : 1;
        long writeOk = _p.TryFindEnumerator("SWP_WRITEOK", out var w) ? w : 2;
        int pageSize = _p.PageSize;
        PathResolver? paths = null;
        for (int i = 0; i < addrs.Count; i++)
        {
            if (addrs[i] == 0) continue;
            CrashSwap? item = null;
            try
            {
                var si = new KernelObject(_p, addrs[i], _si);
                ulong flags = si.ReadField<ulong>("flags");
                if ((flags & (ulong)used) == 0) continue;
                // inuse_pages: unsigned int, an atomic_long_t ({ long counter; }) since the 7.x swap table rework
                ulong pages = si.ReadField<uint>("pages");
                var inuseField = si.Member("inuse_pages");
                ulong inuse = inuseField.Type.Resolve() is KStructType ? (ulong)Math.Max(0L, inuseField.ReadField<long>("counter")) : si.ReadField<uint>("inuse_pages");
                ulong file = si.Member("swap_file").ReadPointer();
                string type = "", name = "";
                if (file != 0)
                {
                    var f = _p.Object(file, "struct file");
                    ulong inode = f.Member("f_inode").ReadPointer();
                    if (inode != 0) type = (_p.Object(inode, "struct inode").ReadField<ulong>("i_mode") & S_IFMT) == S_IFBLK ? "PARTITION" : "FILE";
                    try
                    {
                        paths ??= new PathResolver(_p);
                        name = paths.Resolve(paths.ReadPath(f.Member("f_path").Address), default);
                    }
                    catch (KdumpException ex)
                    {
                        onError(new KdumpException("SwapFileNameUnreadable", KdumpErrorKind.ReadError, $"Swap area {i}: the path of its file 0x{file:x} cannot be read: {ex.Message}", addrs[i], ex));
                    }
                }
                ulong size = pages * (ulong)pageSize / 1024, usedKb = inuse * (ulong)pageSize / 1024;
                item = new CrashSwap
                {
                    SwapInfo = addrs[i], Index = i, Type = type, Pages = pages, UsedPages = inuse, Size = size, Used = usedKb,
                    Percent = size == 0 ? 0 : (int)(usedKb * 100 / size), Priority = si.ReadField<short>("prio"), FileName = name,
                    Flags = flags, IsActive = (flags & (ulong)writeOk) != 0,
                };
            }
            catch (KdumpException ex)
            {
                onError(new KdumpException("SwapInfoUnreadable", KdumpErrorKind.ReadError, $"Swap area {i} (swap_info_struct 0x{addrs[i]:x}) cannot be read: {ex.Message}", addrs[i], ex));
            }
            if (item is not null) yield return item;
        }
    }
}
