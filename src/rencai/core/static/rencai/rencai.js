// rencai's own scripts
