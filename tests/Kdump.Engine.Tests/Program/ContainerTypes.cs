using Kdump.Engine.Tests.Types;

namespace Kdump.Engine.Tests.Program;

/// <summary>
/// BTF for the kernel's container types (rb_node/rb_root, maple tree nodes and enum maple_type, xarray/xa_node,
/// struct path), with the offsets as parameters so tests can give a layout other than Linux 6.1 x86_64's and check
/// the walkers follow the types, not literals.
/// </summary>
internal static class ContainerTypes
{
    public sealed record Layout
    {
        /// <summary>Byte offsets in struct rb_node (6.1: __rb_parent_color 0, rb_right 8, rb_left 16).</summary>
        public uint RbRight { get; init; } = 8;
        public uint RbLeft { get; init; } = 16;
        /// <summary>maple_tree.ma_root.</summary>
        public uint MaRoot { get; init; } = 8;
        /// <summary>Pivot/slot counts of maple_range_64 (15/16) and maple_arange_64 (9/10), maple_node.slot (31).</summary>
        public uint RangePivots { get; init; } = 15;
        public uint ArangePivots { get; init; } = 9;
        public uint DenseSlots { get; init; } = 31;
        /// <summary>enum maple_type values: dense, leaf_64, range_64, arange_64.</summary>
        public (int Dense, int Leaf, int Range, int Arange) MapleTypes { get; init; } = (0, 1, 2, 3);
        /// <summary>xarray.xa_head, xa_node.slots and XA_CHUNK_SIZE.</summary>
        public uint XaHead { get; init; } = 8;
        public uint XaSlots { get; init; } = 40;
        public uint XaChunk { get; init; } = 64;
        /// <summary>Leave a type out (by name, e.g. "rb_node") to test the KernelTypeMissing error.</summary>
        public string? Omit { get; init; }
    }

    public static byte[] Btf(Layout? layout = null)
    {
        var l = layout ?? new Layout();
        var b = new BtfBuilder();
        int i32 = b.Int("int", 4, signed: true);
        int u64 = b.Int("long unsigned int", 8);
        int u8 = b.Int("unsigned char", 1);
        int voidPtr = b.Ptr(0);
        bool Keep(string name) => l.Omit != name;
        if (Keep("rb_node"))
        {
            int rbPtr = b.Ptr(b.NextId + 1);
            b.Struct("rb_node", 24, ("__rb_parent_color", u64, 0, 0), ("rb_right", rbPtr, l.RbRight * 8, 0), ("rb_left", rbPtr, l.RbLeft * 8, 0));
            b.Struct("rb_root", 8, ("rb_node", rbPtr, 0, 0));
        }
        if (Keep("maple_tree"))
        {
            b.Struct("maple_tree", l.MaRoot + 16, ("ma_lock", i32, 0, 0), ("ma_root", voidPtr, l.MaRoot * 8, 0), ("ma_flags", i32, (l.MaRoot + 8) * 8, 0));
            int rp = b.Array(u64, i32, l.RangePivots), rs = b.Array(voidPtr, i32, l.RangePivots + 1);
            b.Struct("maple_range_64", 256, ("parent", voidPtr, 0, 0), ("pivot", rp, 64, 0), ("slot", rs, (8 + l.RangePivots * 8) * 8, 0));
            int ap = b.Array(u64, i32, l.ArangePivots), asl = b.Array(voidPtr, i32, l.ArangePivots + 1);
            b.Struct("maple_arange_64", 256, ("parent", voidPtr, 0, 0), ("pivot", ap, 64, 0), ("slot", asl, (8 + l.ArangePivots * 8) * 8, 0));
            int ds = b.Array(voidPtr, i32, l.DenseSlots);
            int inner = b.Struct(null, 256, ("parent", voidPtr, 0, 0), ("slot", ds, 64, 0));
            b.Struct("maple_node", 256, (null, inner, 0, 0));
            var (d, lf, r, a) = l.MapleTypes;
            b.Enum("maple_type", 4, false, ("maple_dense", d), ("maple_leaf_64", lf), ("maple_range_64", r), ("maple_arange_64", a));
        }
        if (Keep("xarray"))
        {
            b.Struct("xarray", l.XaHead + 8, ("xa_lock", i32, 0, 0), ("xa_flags", i32, 32, 0), ("xa_head", voidPtr, l.XaHead * 8, 0));
            int slots = b.Array(voidPtr, i32, l.XaChunk);
            b.Struct("xa_node", l.XaSlots + l.XaChunk * 8, ("shift", u8, 0, 0), ("offset", u8, 8, 0), ("parent", voidPtr, 64, 0), ("slots", slots, l.XaSlots * 8, 0));
        }
        return b.Build();
    }
}
