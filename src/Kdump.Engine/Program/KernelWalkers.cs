using Kdump.Engine.Types;

namespace Kdump.Engine.Program;

/// <summary>
/// Bounded, cycle-detecting walks of kernel containers: list_head, hlist, rbtree, maple tree, xarray/radix tree.
/// Every walk takes a maximum count; exceeding it throws "ListTooLong"/"TreeTooLarge", meeting a node twice throws
/// "ListCycle"/"TreeCycle". Memory faults (MemoryFaultException, AddressTranslationException) propagate: the caller
/// decides whether a partial result is acceptable (the items already yielded remain valid).
/// </summary>
public static class KernelWalkers
{
    public const int DefaultMax = 1_000_000;

    /// <summary>The addresses of the list_head nodes of a circular list, excluding the head itself.</summary>
    public static IEnumerable<ulong> ListForEach(this KernelProgram program, ulong head, int max = DefaultMax)
    {
        var seen = new HashSet<ulong>();
        ulong node = program.ReadU64(head); // head->next
        while (node != head)
        {
            if (node == 0) throw new KdumpException("ListBroken", KdumpErrorKind.InvalidData, $"The list at 0x{head:x} has a NULL next pointer after {seen.Count} entries.", head);
            if (!seen.Add(node)) throw new KdumpException("ListCycle", KdumpErrorKind.InvalidData, $"The list at 0x{head:x} loops back to 0x{node:x} without returning to its head (after {seen.Count} entries).", head);
            if (seen.Count > max) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"The list at 0x{head:x} has more than {max} entries.", head);
            yield return node;
            node = program.ReadU64(node);
        }
    }

    /// <summary>list_for_each_entry: the containing objects of a list (type and the list_head member name, e.g. "tasks").</summary>
    public static IEnumerable<KernelObject> ListForEachEntry(this KernelProgram program, ulong head, KType type, string member, int max = DefaultMax)
    {
        ulong off = KernelObject.MemberOffset(type, member);
        foreach (var node in program.ListForEach(head, max)) yield return new KernelObject(program, node - off, type);
    }

    /// <summary>hlist_for_each: the hlist_node addresses starting at hlist_head.first.</summary>
    public static IEnumerable<ulong> HlistForEach(this KernelProgram program, ulong hlistHead, int max = DefaultMax)
    {
        var seen = new HashSet<ulong>();
        ulong node = program.ReadU64(hlistHead);
        while (node != 0)
        {
            if (!seen.Add(node)) throw new KdumpException("ListCycle", KdumpErrorKind.InvalidData, $"The hlist at 0x{hlistHead:x} loops at 0x{node:x}.", hlistHead);
            if (seen.Count > max) throw new KdumpException("ListTooLong", KdumpErrorKind.LimitExceeded, $"The hlist at 0x{hlistHead:x} has more than {max} entries.", hlistHead);
            yield return node;
            node = program.ReadU64(node);
        }
    }

    public static IEnumerable<KernelObject> HlistForEachEntry(this KernelProgram program, ulong hlistHead, KType type, string member, int max = DefaultMax)
    {
        ulong off = KernelObject.MemberOffset(type, member);
        foreach (var node in program.HlistForEach(hlistHead, max)) yield return new KernelObject(program, node - off, type);
    }

    /// <summary>In-order rb_node addresses of an rb_root (offsets of rb_root.rb_node, rb_node.rb_left/rb_right from the types).</summary>
    public static IEnumerable<ulong> RbTreeInOrder(this KernelProgram program, ulong rbRoot, int max = DefaultMax)
    {
        var l = program.Caches.RbLayout.GetOrCreate(() => RbLayout.For(program));
        var seen = new HashSet<ulong>();
        var stack = new Stack<ulong>();
        ulong node = program.ReadU64(rbRoot + l.Root);
        while (node != 0 || stack.Count > 0)
        {
            while (node != 0)
            {
                if (!seen.Add(node)) throw new KdumpException("TreeCycle", KdumpErrorKind.InvalidData, $"The rbtree at 0x{rbRoot:x} reaches node 0x{node:x} twice.", rbRoot);
                if (seen.Count > max) throw new KdumpException("TreeTooLarge", KdumpErrorKind.LimitExceeded, $"The rbtree at 0x{rbRoot:x} has more than {max} nodes.", rbRoot);
                stack.Push(node);
                node = program.ReadU64(node + l.Left);
            }
            node = stack.Pop();
            yield return node;
            node = program.ReadU64(node + l.Right);
        }
    }

    internal sealed record RbLayout(ulong Root, ulong Left, ulong Right)
    {
        public static RbLayout For(KernelProgram p)
        {
            const string why = "walking a red-black tree";
            return new RbLayout(p.RequireOffset("struct rb_root", "rb_node", why),
                p.RequireOffset("struct rb_node", "rb_left", why), p.RequireOffset("struct rb_node", "rb_right", why));
        }
    }

    // ------------------------------------------------------------------ maple tree (lib/maple_tree.c, 6.1+)

    // encoding of maple node pointers (lib/maple_tree.c: MAPLE_NODE_MASK, MAPLE_NODE_TYPE_SHIFT/MASK): not in the types
    private const ulong MapleNodeMask = 255;
    private const int MapleNodeTypeShift = 3;
    private const ulong MapleNodeTypeMask = 0x0f;

    /// <summary>One stored range of a maple tree.</summary>
    public readonly record struct MapleEntry(ulong First, ulong Last, ulong Value);

    /// <summary>
    /// mt_for_each: the non-NULL entries of a maple tree with their index ranges. <paramref name="mapleTree"/> is the
    /// address of a struct maple_tree (e.g. &amp;mm->mm_mt). Node layouts (maple_range_64/leaf_64, maple_arange_64,
    /// maple_dense = maple_node.slot) and their pivot/slot counts, and the node type numbers (enum maple_type), come from
    /// the kernel's types; a missing one is KernelTypeMissing.
    /// </summary>
    public static IEnumerable<MapleEntry> MapleTreeForEach(this KernelProgram program, ulong mapleTree, int max = DefaultMax)
    {
        var layout = program.Caches.MapleLayout.GetOrCreate(() => MapleLayout.For(program));
        ulong root = program.ReadU64(mapleTree + layout.RootOffset);
        if (root == 0) yield break;
        if (!IsNode(root))
        {
            if (!IsInternal(root)) yield return new MapleEntry(0, 0, root);
            yield break;
        }
        var seen = new HashSet<ulong>();
        var stack = new Stack<(ulong Entry, ulong Min, ulong Max, int Depth)>();
        stack.Push((root, 0, ulong.MaxValue, 0));
        int count = 0;
        var results = new List<MapleEntry>();
        while (stack.Count > 0)
        {
            var (entry, min, maxIdx, depth) = stack.Pop();
            ulong node = entry & ~MapleNodeMask;
            int type = (int)((entry >> MapleNodeTypeShift) & MapleNodeTypeMask);
            if (!seen.Add(node)) throw new KdumpException("TreeCycle", KdumpErrorKind.InvalidData, $"The maple tree at 0x{mapleTree:x} reaches node 0x{node:x} twice.", mapleTree);
            if (depth > 32) throw new KdumpException("TreeTooDeep", KdumpErrorKind.InvalidData, $"The maple tree at 0x{mapleTree:x} is deeper than 32 levels.", mapleTree);
            if (seen.Count > max) throw new KdumpException("TreeTooLarge", KdumpErrorKind.LimitExceeded, $"The maple tree at 0x{mapleTree:x} has more than {max} nodes.", mapleTree);
            results.Clear();
            var children = new List<(ulong, ulong, ulong, int)>();
            if (type == layout.Dense)
            {
                int nDense = layout.DenseSlotCount;
                var slots = program.ReadKernel(node + layout.DenseSlots, nDense * 8);
                for (int i = 0; i < nDense && min + (ulong)i <= maxIdx; i++)
                {
                    ulong v = BitConverter.ToUInt64(slots, i * 8);
                    if (v != 0 && !IsInternal(v)) results.Add(new MapleEntry(min + (ulong)i, min + (ulong)i, v));
                }
            }
            else if (type == layout.Leaf64 || type == layout.Range64 || type == layout.Arange64)
            {
                bool arange = type == layout.Arange64;
                int nPivots = arange ? layout.ArangePivotCount : layout.RangePivotCount, nSlots = arange ? layout.ArangeSlotCount : layout.RangeSlotCount;
                var pivots = program.ReadKernel(node + (arange ? layout.ArangePivots : layout.RangePivots), nPivots * 8);
                var slots = program.ReadKernel(node + (arange ? layout.ArangeSlots : layout.RangeSlots), nSlots * 8);
                ulong lo = min;
                for (int i = 0; i < nSlots; i++)
                {
                    ulong pivot = i < nPivots ? BitConverter.ToUInt64(pivots, i * 8) : maxIdx;
                    if (i > 0 && pivot == 0) break;      // unused tail of the node
                    if (pivot > maxIdx || pivot < lo) { if (i < nPivots && pivot == 0) break; pivot = maxIdx; }
                    ulong v = BitConverter.ToUInt64(slots, i * 8);
                    if (type == layout.Leaf64) { if (v != 0 && !IsInternal(v)) results.Add(new MapleEntry(lo, pivot, v)); }
                    else if (v != 0)
                    {
                        // children of internal nodes are encoded nodes (node | type << 3 | MAPLE_ENODE_NULL), without the
                        // root's internal-entry tag: only the address part must look like a node
                        if ((v & ~MapleNodeMask) < 4096) throw new KdumpException("TreeCorrupt", KdumpErrorKind.InvalidData, $"Maple node 0x{node:x} slot {i} holds 0x{v:x}, not a child node.", mapleTree);
                        children.Add((v, lo, pivot, depth + 1));
                    }
                    if (pivot >= maxIdx) break;
                    lo = pivot + 1;
                }
            }
            else throw new KdumpException("TreeCorrupt", KdumpErrorKind.InvalidData, $"Maple node 0x{node:x} has unknown type {type}.", mapleTree);
            foreach (var r in results)
            {
                if (++count > max) throw new KdumpException("TreeTooLarge", KdumpErrorKind.LimitExceeded, $"The maple tree at 0x{mapleTree:x} has more than {max} entries.", mapleTree);
                yield return r;
            }
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]); // keep index order
        }
    }

    private static bool IsInternal(ulong e) => (e & 3) == 2;
    // xa_is_node()/mte_is_node(): an internal entry above 4096 (include/linux/xarray.h; a fixed bound, not the page size)
    private static bool IsNode(ulong e) => IsInternal(e) && e > 4096;

    internal sealed record MapleLayout(ulong RootOffset, ulong DenseSlots, ulong RangePivots, ulong RangeSlots, ulong ArangePivots, ulong ArangeSlots,
        int DenseSlotCount, int RangePivotCount, int RangeSlotCount, int ArangePivotCount, int ArangeSlotCount,
        long Dense, long Leaf64, long Range64, long Arange64)
    {
        public static MapleLayout For(KernelProgram p)
        {
            const string why = "walking a maple tree";
            var mt = p.RequireType("struct maple_tree", why);
            var r64 = p.RequireType("struct maple_range_64", why);
            var a64 = p.RequireType("struct maple_arange_64", why);
            var mn = p.RequireType("struct maple_node", why);
            int Count(KType t, string spelling, string member)
            {
                ulong n = KernelLayout.RequireArrayLength(t, spelling, member, why);
                if (n > 256) throw new KdumpException("KernelTypeInvalid", KdumpErrorKind.InvalidData, $"'{spelling}.{member}' has {n} elements; a maple node has far fewer.", $"{spelling}.{member}");
                return (int)n;
            }
            long Enumerator(string name)
            {
                if (p.TryFindEnumerator(name, out long v) && v is >= 0 and <= 15) return v;
                throw new KdumpException("KernelTypeMissing", KdumpErrorKind.NotFound, $"The enumerator '{name}' of enum maple_type (needed for {why}) is not known to the type sources ({p.TypeSourceText}).", name);
            }
            return new MapleLayout(
                KernelLayout.RequireOffset(mt, "struct maple_tree", "ma_root", why),
                KernelLayout.RequireOffset(mn, "struct maple_node", "slot", why),
                KernelLayout.RequireOffset(r64, "struct maple_range_64", "pivot", why), KernelLayout.RequireOffset(r64, "struct maple_range_64", "slot", why),
                KernelLayout.RequireOffset(a64, "struct maple_arange_64", "pivot", why), KernelLayout.RequireOffset(a64, "struct maple_arange_64", "slot", why),
                Count(mn, "struct maple_node", "slot"),
                Count(r64, "struct maple_range_64", "pivot"), Count(r64, "struct maple_range_64", "slot"),
                Count(a64, "struct maple_arange_64", "pivot"), Count(a64, "struct maple_arange_64", "slot"),
                Enumerator("maple_dense"), Enumerator("maple_leaf_64"), Enumerator("maple_range_64"), Enumerator("maple_arange_64"));
        }
    }

    // ------------------------------------------------------------------ xarray / radix tree

    /// <summary>One present entry of an xarray: index and value.</summary>
    public readonly record struct XArrayEntry(ulong Index, ulong Value);

    /// <summary>
    /// xa_for_each over a struct xarray (or radix_tree_root: same layout) at <paramref name="xarray"/>: skips NULL,
    /// sibling, retry and zero entries. xa_node offsets (shift, slots) and XA_CHUNK_SIZE come from the types.
    /// </summary>
    public static IEnumerable<XArrayEntry> XArrayForEach(this KernelProgram program, ulong xarray, int max = DefaultMax)
    {
        const string why = "walking an xarray";
        var xn = program.RequireType("struct xa_node", why);
        ulong headOff = program.RequireOffset("struct xarray", "xa_head", why);
        ulong shiftOff = KernelLayout.RequireOffset(xn, "struct xa_node", "shift", why), slotsOff = KernelLayout.RequireOffset(xn, "struct xa_node", "slots", why);
        ulong chunk = KernelLayout.RequireArrayLength(xn, "struct xa_node", "slots", why); // XA_CHUNK_SIZE: 64, or 16 with CONFIG_BASE_SMALL
        if (chunk is not (16 or 64)) throw new KdumpException("KernelTypeInvalid", KdumpErrorKind.InvalidData, $"struct xa_node.slots has {chunk} elements, not 16 or 64.", "struct xa_node.slots");
        int chunkShift = System.Numerics.BitOperations.Log2(chunk);
        ulong head = program.ReadU64(xarray + headOff);
        if (head == 0) yield break;
        if (!IsNode(head))
        {
            if (!IsInternal(head)) yield return new XArrayEntry(0, head);
            yield break;
        }
        var seen = new HashSet<ulong>();
        var stack = new Stack<(ulong Node, ulong BaseIndex)>();
        stack.Push((head - 2, 0));
        int count = 0;
        while (stack.Count > 0)
        {
            var (node, baseIndex) = stack.Pop();
            if (!seen.Add(node)) throw new KdumpException("TreeCycle", KdumpErrorKind.InvalidData, $"The xarray at 0x{xarray:x} reaches node 0x{node:x} twice.", xarray);
            if (seen.Count > max) throw new KdumpException("TreeTooLarge", KdumpErrorKind.LimitExceeded, $"The xarray at 0x{xarray:x} has more than {max} nodes.", xarray);
            int shift = program.ReadU8(node + shiftOff);
            if (shift > 63 || shift % chunkShift != 0) throw new KdumpException("TreeCorrupt", KdumpErrorKind.InvalidData, $"xa_node 0x{node:x} has shift {shift}.", xarray);
            var slots = program.ReadKernel(node + slotsOff, (int)chunk * 8);
            var children = new List<(ulong, ulong)>();
            for (int i = 0; i < (int)chunk; i++)
            {
                ulong v = BitConverter.ToUInt64(slots, i * 8);
                if (v == 0) continue;
                ulong index = baseIndex + ((ulong)i << shift);
                if (IsNode(v))
                {
                    if (shift == 0) throw new KdumpException("TreeCorrupt", KdumpErrorKind.InvalidData, $"xa_node 0x{node:x} at shift 0 has a child node.", xarray);
                    children.Add((v - 2, index));
                }
                else if (!IsInternal(v))
                {
                    if (++count > max) throw new KdumpException("TreeTooLarge", KdumpErrorKind.LimitExceeded, $"The xarray at 0x{xarray:x} has more than {max} entries.", xarray);
                    yield return new XArrayEntry(index, v);
                }
            }
            for (int i = children.Count - 1; i >= 0; i--) stack.Push(children[i]);
        }
    }
}
