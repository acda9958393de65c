namespace Kdump.Engine.Model;

/// <summary>
/// Base of every output record read from a dump: the record names its dump by <see cref="VmcoreIdentity"/> (Id,
/// Name, Path), never by the live <see cref="Model.Vmcore"/>, so records are plain data (ConvertTo-Json, Export-Csv
/// and Group-Object never reach into the dump) and piping a record to another cmdlet binds <c>-Vmcore</c> by
/// property name. Producers that know the dump set <c>Vmcore = vmcore</c> (an implicit conversion keeps only the
/// identity); the cmdlets stamp the others with <see cref="WithVmcore"/> before writing them.
/// </summary>
public abstract class DumpRecord
{
    private VmcoreIdentity? _vmcore;

    /// <summary>The dump this record comes from (binds -Vmcore when piped to other cmdlets); its text is the path.</summary>
    public VmcoreIdentity? Vmcore { get => _vmcore; init => _vmcore = value; }

    /// <summary>This record naming <paramref name="vmcore"/>: itself when it already names a dump, else a copy.</summary>
    public DumpRecord WithVmcore(VmcoreIdentity? vmcore)
    {
        if (_vmcore is not null || vmcore is null) return this;
        var copy = (DumpRecord)MemberwiseClone();
        copy._vmcore = vmcore;
        return copy;
    }
}
